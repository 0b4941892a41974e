"""Source, tag and metadata filters: the same results in both stores, only matching payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import PayloadFilter, VectorPoint
from tests.index.corpus import COLLECTION, EmbeddedCorpus

FILTERS = [
    PayloadFilter(),
    PayloadFilter(sources=("alpha",)),
    PayloadFilter(sources=("alpha", "gamma")),
    PayloadFilter(tags=("genetics",)),
    PayloadFilter(tags=("medicine", "genetics")),
    PayloadFilter(metadata={"lang": "de"}),
    PayloadFilter(metadata={"year": 2003}),
    PayloadFilter(metadata={"reviewed": True}),
    PayloadFilter(metadata={"reviewed": False}),
    PayloadFilter(sources=("beta",), tags=("biology",), metadata={"lang": "en", "year": 2001}),
    PayloadFilter(sources=("beta",), metadata={"year": 1999}),
]


def matches(flt: PayloadFilter, payload: dict[str, Any]) -> bool:
    """The filter's meaning, written out: any source, any tag, every metadata value (typed)."""
    if flt.sources and payload["source"] not in flt.sources:
        return False
    if flt.tags and not set(flt.tags) & set(payload["tags"]):
        return False
    return all(
        type(payload["metadata"].get(k)) is type(v) and payload["metadata"].get(k) == v
        for k, v in flt.metadata.items()
    )


@pytest.mark.parametrize("flt", FILTERS, ids=[repr(f)[14:-1] or "none" for f in FILTERS])
def test_filtered_search_agrees_and_matches(
    stores: tuple[ClientVectorStore, EdgeVectorStore], corpus: EmbeddedCorpus, flt: PayloadFilter
) -> None:
    """Both stores return the exact filtered top 10: only matching points, best first."""
    client, edge = stores
    allowed = [i for i, p in enumerate(corpus.points) if matches(flt, p.payload)]
    for query in corpus.queries[:5]:
        scores = corpus.matrix[allowed] @ query
        expected = [corpus.points[allowed[j]].id for j in np.argsort(-scores)[:10]]
        from_client = client.search(COLLECTION, query, 10, flt)
        from_edge = edge.search(COLLECTION, query, 10, flt)
        assert [h.chunk_id for h in from_client] == expected
        assert [h.chunk_id for h in from_edge] == expected
        assert all(matches(flt, h.payload) for h in [*from_client, *from_edge])


def test_filters_are_not_vacuous(corpus: EmbeddedCorpus) -> None:
    """Each filter but the empty one excludes points, and all but the last keeps some."""
    counts = [sum(matches(f, p.payload) for p in corpus.points) for f in FILTERS]
    assert counts[0] == len(corpus.points)
    assert all(0 < c < len(corpus.points) for c in counts[1:-1]), counts
    assert counts[-1] == 0


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [(True, ["bool-true"]), (False, ["bool-false"]), (1, ["int-one"]), (0, ["int-zero"])],
)
def test_boolean_metadata_is_not_an_integer(
    tmp_path: Path, wanted: bool | int, expected: list[str]
) -> None:
    """Regression: Edge matched metadata True against the integer 1, never a stored true."""
    values = {"bool-true": True, "bool-false": False, "int-one": 1, "int-zero": 0, "str": "true"}
    points = [
        VectorPoint(
            id=f"{i:032x}",
            vector=np.ones(4, dtype=np.float32),
            payload={"chunk_id": name, "metadata": {"flag": value}},
        )
        for i, (name, value) in enumerate(values.items())
    ]
    flt = PayloadFilter(metadata={"flag": wanted})
    for store in (
        ClientVectorStore.local(str(tmp_path / "local")),
        EdgeVectorStore(tmp_path / "e"),
    ):
        store.create_collection("flags", 4)
        store.upsert("flags", points)
        store.finalize("flags")
        hits = store.search("flags", np.ones(4, dtype=np.float32), 10, flt)
        assert [h.chunk_id for h in hits] == expected, store.kind
        store.close()
