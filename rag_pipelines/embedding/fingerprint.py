"""Model fingerprints: which exact weights produced a vector."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "*.pt", "*.onnx")


class ModelFingerprint(BaseModel):
    """Identity of an embedding model: name, revision or weights hash, dimension, normalization."""

    model_config = ConfigDict(frozen=True)

    name: str
    revision: str | None = None
    weights_sha256: str | None = None
    dimension: int
    normalize: bool
    backend: str | None = None  # the engine that encoded (torch, onnx, onnx-int8); None: torch
    quantization: str | None = None  # set where the backend changes the vectors (int8)

    @property
    def identity(self) -> str:
        """Which weights, without loading them: name and revision or weights hash (+int8)."""
        version = self.revision or "sha256:" + (self.weights_sha256 or "")[:16]
        return f"{self.name}@{version}{quantized_suffix(self.quantization)}"

    @property
    def key(self) -> str:
        """Short stable string used in caches, manifests and payloads.

        fp32 ONNX and torch give the same vectors (verified at load), so they share a key;
        int8 is a different model for retrieval purposes and gets its own.
        """
        norm = "norm" if self.normalize else "raw"
        return f"{self.identity}/d{self.dimension}/{norm}"


def quantized_suffix(quantization: str | None) -> str:
    """`+int8` for quantized weights, nothing for the original ones."""
    return f"+{quantization}" if quantization else ""


def weights_sha256(model_dir: Path) -> str:
    """sha256 over every weight file of a model folder (relative paths included)."""
    files = sorted(
        {p for pattern in WEIGHT_PATTERNS for p in model_dir.rglob(pattern) if p.is_file()}
    )
    if not files:
        raise FileNotFoundError(f"no weight files ({', '.join(WEIGHT_PATTERNS)}) under {model_dir}")
    stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _hash_files(str(model_dir), stats)


@lru_cache(maxsize=16)
def _hash_files(root: str, stats: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stats:
        path = Path(name)
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
