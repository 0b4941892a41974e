"""One loaded model per fingerprint per process (loading costs seconds)."""

from __future__ import annotations

import threading

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.errors import ModelLoadError

_models: dict[str, SentenceTransformerModel] = {}
_lock = threading.Lock()


def model_for(
    base: EmbeddingSettings, ref: str, fingerprint: ModelFingerprint
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
                }
            )
            model = SentenceTransformerModel(settings)
            if model.fingerprint.key != fingerprint.key:
                raise ModelLoadError(
                    f"the index was built with {fingerprint.key} but {ref} now loads as "
                    f"{model.fingerprint.key}; rebuild the index or restore the model"
                )
            _models[fingerprint.key] = model
        return model
