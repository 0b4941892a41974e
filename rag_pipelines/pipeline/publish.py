"""Stage 5: publish a checked version atomically and collect old ones."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.faults import crash_point
from rag_pipelines.index.manifest import LivePointer
from rag_pipelines.index.stores import alias_name
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
from rag_pipelines.pipeline.checks.freshness import staleness
from rag_pipelines.pipeline.generation_gc import collect_generations
from rag_pipelines.pipeline.pin import new_pin, pin_status


@dataclass
class PublishReport:
    """What publishing did."""

    pointer: LivePointer
    changed: bool
    collected: list[str]
    held: str = ""  # why the version was not published (a rollback's pin); "" otherwise


def publish(
    ctx: PipelineContext, version: str, store: VectorStore, run_id: str = ""
) -> PublishReport:
    """Point the live pointer and alias at `version` if its blocking checks passed; `run_id`
    names the orchestrator run that publishes it (lineage). A pinned live version stays: the
    report says why (`held`), and nothing is an error."""
    registry = ctx.registry
    current = registry.live()
    if current is not None and current.version == version:
        return PublishReport(pointer=current, changed=False, collected=[])
    manifest = registry.manifest(version)
    registry.ensure_publishable(version, BLOCKING_CHECKS)
    pin = pin_status(ctx, current)
    if current is not None and pin is not None and pin.holds:
        return PublishReport(current, False, collect_garbage(ctx, store), pin.refusal(version))
    previous = current.version if current else None
    lag = staleness(ctx, version, previous, utc_now())
    crash_point("publish_before_switch")
    # Compare-and-set from the version the checks compared against; only the winner moves the
    # server's aliases (a run that lost the race raises LivePointerConflict before).
    pointer = registry.point_live(version, staleness=lag, run_id=run_id, expected=current)
    _point_aliases(ctx, store, manifest.collection, manifest.bm25_collection)
    crash_point("publish_after_switch")
    return PublishReport(pointer=pointer, changed=True, collected=collect_garbage(ctx, store))


def rollback(ctx: PipelineContext, store: VectorStore, version: str | None = None) -> LivePointer:
    """Re-point the live index to an earlier version (default: the one live before this one)
    and pin it there: builds go on, but none is published past it until unpin or a config
    change."""
    registry = ctx.registry
    current = registry.live()
    if current is None:
        raise PublishRefusedError("nothing is published, so there is nothing to roll back")
    target = version or _previous_published(ctx, current.version)
    if target is None:
        raise PublishRefusedError(f"no earlier published version than {current.version} is kept")
    if target == current.version:
        raise PublishRefusedError(f"{target} is already live")
    if target not in registry.versions():
        kept = ", ".join(registry.versions())
        raise PublishRefusedError(f"version {target} is not kept (kept: {kept})")
    registry.ensure_publishable(target, BLOCKING_CHECKS)
    manifest = registry.manifest(target)
    pointer = registry.point_live(target, rollback=True, expected=current, pin=new_pin(ctx))
    _point_aliases(ctx, store, manifest.collection, manifest.bm25_collection)
    return pointer


def _point_aliases(ctx: PipelineContext, store: VectorStore, dense: str, bm25: str) -> None:
    """Move the server's live aliases (Edge has none: the pointer is the switch)."""
    alias = alias_name(ctx.config.index.qdrant, ctx.config.pipeline.name)
    store.point_alias(alias, dense)
    store.point_alias(f"{alias}_bm25", bm25)


def _previous_published(ctx: PipelineContext, live: str) -> str | None:
    kept = set(ctx.registry.versions())
    for pointer in reversed(ctx.registry.history()):
        if pointer.version != live and pointer.version in kept:
            return pointer.version
    return None


def _checks_passed(ctx: PipelineContext, version: str) -> bool:
    verdicts = ctx.registry.checks(version)
    return all(name in verdicts and verdicts[name].passed for name in BLOCKING_CHECKS)


def collect_garbage(ctx: PipelineContext, store: VectorStore) -> list[str]:
    """Drop versions beyond the retention count (never the live one).

    Retention counts rollback targets: the newest `retention` versions whose checks passed are
    kept, so builds that failed their checks cannot push every good version out.
    """
    registry = ctx.registry
    retention = ctx.config.index.retention
    targets = [v for v in registry.versions() if _checks_passed(ctx, v)]
    removed: list[str] = []
    for version in registry.collectable(retention, keep=set(targets[-retention:])):
        manifest = registry.manifest(version)
        # Retired first: if this run dies halfway, the version is an incomplete build (never
        # served, never a rollback target) that the next build removes, not a broken "version".
        registry.retire(version)
        if manifest.generation is None:  # a generation's points are expired below instead
            store.drop_collection(manifest.collection)
            store.drop_collection(manifest.bm25_collection)
        crash_point("gc_partial")
        registry.remove(version)
        removed.append(version)
    collect_generations(ctx, store)
    return removed
