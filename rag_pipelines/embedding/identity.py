"""Which weights the configuration names now, without loading the model (for sensors)."""

from __future__ import annotations

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.fingerprint import weights_sha256
from rag_pipelines.embedding.resolve import resolve_model


def configured_identity(settings: EmbeddingSettings) -> str:
    """`name@revision` or `name@sha256:<16 hex>`, as ModelFingerprint.identity computes it."""
    resolved = resolve_model(settings.model, settings.revision)
    if resolved.revision:
        return f"{resolved.name}@{resolved.revision}"
    return f"{resolved.name}@sha256:{weights_sha256(resolved.path)[:16]}"
