"""Which engine encodes: torch, or the ONNX Runtime export of the same model (pure logic)."""

from __future__ import annotations

from typing import Literal

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "onnx", "onnx-int8")
# Backends whose vectors differ from torch's: a different model for retrieval purposes.
VECTOR_CHANGING: dict[str, str] = {"onnx-int8": "int8"}


class BackendUnavailable(RuntimeError):
    """The configured backend cannot run on the configured device."""


def select_backend(backend: str, device: str, pooled: bool = False) -> Backend:
    """`auto` is ONNX Runtime on CPU (about 3x faster per query) and torch on CUDA/MPS.

    `pooled`: `embedding.devices` is set, whose multi-process pool runs sentence-transformers
    (torch) on every device, so auto means torch there and an ONNX backend is refused.
    """
    if backend == "auto":
        return "onnx" if device == "cpu" and not pooled else "torch"
    if backend == "torch":
        return "torch"
    if backend in ("onnx", "onnx-int8") and pooled:
        raise BackendUnavailable(
            f"embedding.devices encodes with torch processes; use backend torch or auto, "
            f"not {backend!r}"
        )
    if backend in ("onnx", "onnx-int8"):
        if device != "cpu":
            raise BackendUnavailable(
                f"embedding.backend {backend!r} runs on CPU only; "
                f"use backend torch or auto with device {device!r}"
            )
        return "onnx" if backend == "onnx" else "onnx-int8"
    raise BackendUnavailable(f"unknown embedding.backend {backend!r}; known: {list(BACKENDS)}")


def quantization_of(backend: str) -> str | None:
    """What a backend changes in the vectors (`int8`), or None where they equal torch's."""
    return VECTOR_CHANGING.get(backend)
