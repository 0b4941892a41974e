"""Exact dense retrieval over chunk vectors in memory: document rankings for a golden set."""

from __future__ import annotations

import numpy as np


def dense_document_run(
    query_ids: list[str],
    query_vectors: np.ndarray,
    chunk_vectors: np.ndarray,
    chunk_documents: list[str],
    depth: int = 100,
) -> dict[str, dict[str, float]]:
    """query id → {document: score}, documents ranked by their best chunk (cosine)."""
    queries = _unit(query_vectors)
    chunks = _unit(chunk_vectors)
    similarity = queries @ chunks.T
    take = min(len(chunk_documents), depth * 3)
    run: dict[str, dict[str, float]] = {}
    for row, query_id in enumerate(query_ids):
        top = np.argsort(-similarity[row], kind="stable")[:take]
        ranked: dict[str, float] = {}
        for i in top:
            doc = chunk_documents[int(i)]
            if doc not in ranked:
                ranked[doc] = float(depth - len(ranked))
                if len(ranked) == depth:
                    break
        run[query_id] = ranked
    return run


def _unit(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
