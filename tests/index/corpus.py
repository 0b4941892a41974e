"""The index tests' shared data shapes: collection name, payload scheme, embedded corpus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rag_pipelines.index.vector_store import VectorPoint

COLLECTION = "scifact_v1"
SOURCES = ("alpha", "beta", "gamma")
TAGS = (["biology"], ["medicine"], ["biology", "genetics"], [])


@dataclass(frozen=True)
class EmbeddedCorpus:
    """Points with real MiniLM vectors and payloads, plus real claim vectors to query with."""

    points: list[VectorPoint]
    queries: np.ndarray

    @property
    def matrix(self) -> np.ndarray:
        """The point vectors as rows."""
        return np.stack([p.vector for p in self.points])


def payload(chunk_id: str, i: int, text: str) -> dict[str, Any]:
    """A payload shaped like the pipeline's, with sources, tags and metadata varied by `i`."""
    return {
        "chunk_id": chunk_id,
        "text": text,
        "source": SOURCES[i % 3],
        "tags": TAGS[i % 4],
        "metadata": {
            "lang": "de" if (i // 2) % 2 else "en",
            "year": 2000 + i % 5,
            "reviewed": i % 7 < 3,
        },
    }
