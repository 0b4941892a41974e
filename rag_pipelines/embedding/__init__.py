"""Embedding: model loading, fingerprints, device choice, cache."""

from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.embedding.model import EmbeddingModel, SentenceTransformerModel

__all__ = ["EmbeddingModel", "ModelFingerprint", "SentenceTransformerModel"]
