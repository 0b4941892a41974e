"""The in-Python payload filter (graph results) against Qdrant's own filter semantics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import PayloadFilter, VectorPoint
from rag_pipelines.retrieval.filters import matches

PAYLOADS: dict[str, dict[str, Any]] = {
    "plain": {"source": "wiki", "tags": [], "metadata": {}},
    "tagged": {"source": "wiki", "tags": ["bio", "med"], "metadata": {"lang": "en"}},
    "other": {"source": "docs", "tags": ["med"], "metadata": {"lang": "de", "year": 2020}},
    "flag-true": {"source": "docs", "tags": ["bio"], "metadata": {"reviewed": True}},
    "flag-one": {"source": "docs", "tags": ["bio"], "metadata": {"reviewed": 1}},
    "flag-false": {"source": "docs", "tags": [], "metadata": {"reviewed": False}},
    "float-one": {"source": "docs", "tags": [], "metadata": {"reviewed": 1.0}},
    "bare": {"source": "blog"},  # no tags or metadata at all
}

TABLE: list[tuple[PayloadFilter | None, set[str]]] = [
    (None, set(PAYLOADS)),
    (PayloadFilter(), set(PAYLOADS)),
    (PayloadFilter(sources=("wiki",)), {"plain", "tagged"}),
    (PayloadFilter(sources=("wiki", "blog")), {"plain", "tagged", "bare"}),  # any source
    (PayloadFilter(sources=("nowhere",)), set()),
    (PayloadFilter(tags=("bio",)), {"tagged", "flag-true", "flag-one"}),
    (PayloadFilter(tags=("bio", "med")), {"tagged", "other", "flag-true", "flag-one"}),  # any
    (PayloadFilter(metadata={"lang": "en"}), {"tagged"}),
    (PayloadFilter(metadata={"lang": "de", "year": 2020}), {"other"}),  # all metadata
    (PayloadFilter(metadata={"lang": "de", "year": 2021}), set()),
    (PayloadFilter(metadata={"year": "2020"}), set()),  # a string is not a number
    (PayloadFilter(metadata={"reviewed": True}), {"flag-true"}),  # True is not 1
    (PayloadFilter(metadata={"reviewed": 1}), {"flag-one"}),  # 1 is neither True nor 1.0
    (PayloadFilter(metadata={"reviewed": False}), {"flag-false"}),
    (PayloadFilter(sources=("docs",), tags=("bio",), metadata={"reviewed": True}), {"flag-true"}),
    (PayloadFilter(sources=("wiki",), tags=("med",)), {"tagged"}),
]


@pytest.mark.parametrize(("flt", "expected"), TABLE, ids=[repr(f) for f, _ in TABLE])
def test_matches_table(flt: PayloadFilter | None, expected: set[str]) -> None:
    """Any of the sources, any of the tags, every metadata value equal and of the same type."""
    assert {name for name, payload in PAYLOADS.items() if matches(payload, flt)} == expected


def test_boolean_metadata_is_not_an_integer() -> None:
    """Regression: matches() let metadata True match a filter for 1 (Python's True == 1)."""
    assert not matches(PAYLOADS["flag-one"], PayloadFilter(metadata={"reviewed": True}))
    assert not matches(PAYLOADS["flag-true"], PayloadFilter(metadata={"reviewed": 1}))


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeVectorStore]:
    """Qdrant Edge holding one point per payload of the table."""
    store = EdgeVectorStore(Path(tmp_path_factory.mktemp("filters")))
    store.create_collection("filters", 4)
    store.upsert(
        "filters",
        [
            VectorPoint(sha256_text(name), np.ones(4), {**payload, "chunk_id": sha256_text(name)})
            for name, payload in PAYLOADS.items()
        ],
    )
    store.finalize("filters")
    yield store
    store.close()


@pytest.mark.parametrize(("flt", "expected"), TABLE, ids=[repr(f) for f, _ in TABLE])
def test_qdrant_edge_agrees(
    edge: EdgeVectorStore, flt: PayloadFilter | None, expected: set[str]
) -> None:
    """The real engine keeps exactly the payloads the table (and so matches()) keeps."""
    names = {sha256_text(name): name for name in PAYLOADS}
    hits = edge.search("filters", np.ones(4), len(PAYLOADS), flt)
    assert {names[h.chunk_id] for h in hits} == expected
