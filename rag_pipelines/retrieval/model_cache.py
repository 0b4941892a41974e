"""One loaded model per fingerprint per process (loading costs seconds)."""

from __future__ import annotations

import threading
from pathlib import Path

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.errors import ModelLoadError

_models: dict[str, SentenceTransformerModel] = {}
_lock = threading.Lock()


def query_backend(base: EmbeddingSettings, fingerprint: ModelFingerprint) -> str:
    """The backend that reproduces a version's vectors: the recorded one where it changed them
    (int8), else this machine's choice (fp32 ONNX and torch are verified equal at load)."""
    if fingerprint.quantization:
        return fingerprint.backend or "onnx-int8"
    return base.backend if base.backend != "onnx-int8" else "auto"


def model_for(
    base: EmbeddingSettings,
    ref: str,
    fingerprint: ModelFingerprint,
    onnx_dir: Path | None = None,
) -> SentenceTransformerModel:
    """The model that produced `fingerprint`, loaded from `ref` and verified."""
    with _lock:
        model = _models.get(fingerprint.key)
        if model is None:
            settings = base.model_copy(
                update={
                    "model": ref,
                    "revision": fingerprint.revision,
                    "normalize": fingerprint.normalize,
                    "backend": query_backend(base, fingerprint),
                    # int8 runs on ONNX Runtime's CPU provider, wherever the service runs
                    **({"device": "cpu"} if fingerprint.quantization else {}),
                }
            )
            model = SentenceTransformerModel(settings, onnx_dir=onnx_dir)
            if model.fingerprint.key != fingerprint.key:
                raise ModelLoadError(
                    f"the index was built with {fingerprint.key} but {ref} now loads as "
                    f"{model.fingerprint.key}; rebuild the index or restore the model"
                )
            _models[fingerprint.key] = model
        return model
