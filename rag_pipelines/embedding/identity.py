"""Which weights the configuration names now, without loading the model (for sensors)."""

from __future__ import annotations

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.backend import quantization_of
from rag_pipelines.embedding.fingerprint import quantized_suffix, weights_sha256
from rag_pipelines.embedding.resolve import resolve_model


def configured_identity(settings: EmbeddingSettings) -> str:
    """`name@revision` or `name@sha256:<16 hex>` (+int8), as ModelFingerprint.identity has it."""
    resolved = resolve_model(settings.model, settings.revision)
    suffix = quantized_suffix(quantization_of(settings.backend))
    if resolved.revision:
        return f"{resolved.name}@{resolved.revision}{suffix}"
    return f"{resolved.name}@sha256:{weights_sha256(resolved.path)[:16]}{suffix}"
