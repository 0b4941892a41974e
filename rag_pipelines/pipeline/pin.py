"""A rollback pins the served version: builds go on, but none is published past the pin until
`rag-pipelines unpin` or a change of the version-shaping config (config/fingerprint.py)."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.config.fingerprint import SHAPING, build_fingerprint
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.index.manifest import LivePointer, Pin
from rag_pipelines.index.versions import utc_now

UNTIL = f"`rag-pipelines unpin` or a change of sources.yaml ({', '.join(SHAPING)})"


@dataclass(frozen=True)
class PinStatus:
    """The live pointer's pin, and whether it still holds under the current config."""

    version: str
    pin: Pin
    holds: bool

    def line(self) -> str:
        """What `status`, the publish step and the UI say about it."""
        if self.holds:
            return (
                f"pinned to {self.version} by a {self.pin.reason} at {self.pin.pinned_at}: builds "
                f"go on but are not published until {UNTIL}"
            )
        return (
            f"pin on {self.version} ({self.pin.reason} at {self.pin.pinned_at}) released: "
            "sources.yaml changed since, so the next build publishes"
        )

    def refusal(self, candidate: str) -> str:
        """Why `candidate` was not published."""
        return f"{candidate} not published: {self.line()}"


def new_pin(ctx: PipelineContext) -> Pin:
    """The pin a rollback sets under the current config."""
    return Pin(pinned_at=utc_now(), config=build_fingerprint(ctx.config))


def pin_status(ctx: PipelineContext, pointer: LivePointer | None) -> PinStatus | None:
    """The pointer's pin (None: not pinned); it holds while the config is the pinned one."""
    if pointer is None or pointer.pin is None:
        return None
    holds = pointer.pin.config == build_fingerprint(ctx.config)
    return PinStatus(pointer.version, pointer.pin, holds)


def unpin(ctx: PipelineContext) -> LivePointer:
    """Remove the live version's pin: the next build publishes again."""
    current = ctx.registry.live()
    if current is None or current.pin is None:
        raise PublishRefusedError("the live version is not pinned, so there is nothing to unpin")
    return ctx.registry.unpin(current)
