"""Search pages (offset / next_offset), min_score, and unknown sources as a 400."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rag_pipelines.client import RagClient, ServiceError
from rag_pipelines.errors import UnknownSourceError
from rag_pipelines.retrieval.models import Hit, Provenance, SearchResponse
from rag_pipelines.retrieval.paging import depth_for, page_of, require_known_sources

HOTEL = "hotel price cap per night"


def post(http: httpx.Client, **body: Any) -> httpx.Response:
    """POST /v1/search for HOTEL."""
    return http.post("/v1/search", json={"query": HOTEL, **body})


def ranked(scores: list[float]) -> SearchResponse:
    """A response whose hits have these scores, ranks 1..n."""
    hits = [
        Hit(
            rank=i,
            score=s,
            chunk_id=f"{i:032x}",
            text="t",
            provenance=Provenance(
                source="s",
                document_id="d",
                document_key="s/d",
                document_uri="",
                title="",
                chunk_id=f"{i:032x}",
                index_version="v",
                model_fingerprint="m",
            ),
        )
        for i, s in enumerate(scores, start=1)
    ]
    return SearchResponse(
        query="q", mode="hybrid", index_version="v", model_fingerprint="m", hits=hits
    )


@pytest.mark.parametrize(
    ("scores", "offset", "top_k", "min_score", "ranks", "next_offset"),
    [
        ([0.9, 0.8, 0.7, 0.6], 0, 2, None, [1, 2], 2),
        ([0.9, 0.8, 0.7, 0.6], 2, 2, None, [3, 4], None),
        ([0.9, 0.8, 0.7], 2, 2, None, [3], None),
        ([0.9, 0.8, 0.7], 5, 2, None, [], None),
        ([0.9, 0.8, 0.7, 0.6], 0, 2, 0.75, [1, 2], None),
        ([0.9, 0.8, 0.7, 0.6], 0, 5, 0.95, [], None),
    ],
)
def test_page_of(
    scores: list[float],
    offset: int,
    top_k: int,
    min_score: float | None,
    ranks: list[int],
    next_offset: int | None,
) -> None:
    page = page_of(ranked(scores), offset, top_k, min_score)
    assert [h.rank for h in page.hits] == ranks
    assert (page.offset, page.next_offset) == (offset, next_offset)


def test_depth_asks_for_one_more_than_the_page() -> None:
    assert depth_for(10, 5) == 16


def test_require_known_sources_names_both_lists() -> None:
    require_known_sources(["a"], ["b", "a"])
    with pytest.raises(UnknownSourceError, match=r"unknown source\(s\) x, y: .* has a, b"):
        require_known_sources(["x", "a", "y"], ["b", "a"])


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_pages_concatenate_to_the_full_ranking(http: httpx.Client, mode: str) -> None:
    full = post(http, top_k=6, mode=mode, rerank=False).json()
    first = post(http, top_k=3, mode=mode, rerank=False).json()
    second = post(http, top_k=3, offset=first["next_offset"], mode=mode, rerank=False).json()
    assert first["next_offset"] == 3 and second["offset"] == 3
    ids = [h["chunk_id"] for h in first["hits"] + second["hits"]]
    assert ids == [h["chunk_id"] for h in full["hits"]]
    assert [h["rank"] for h in second["hits"]] == [4, 5, 6]


def test_last_page_has_no_next_offset(http: httpx.Client) -> None:
    body = post(http, top_k=100, mode="bm25").json()
    assert body["hits"] and body["next_offset"] is None
    beyond = post(http, top_k=10, offset=len(body["hits"]), mode="bm25").json()
    assert beyond["hits"] == [] and beyond["next_offset"] is None


def test_min_score_drops_weaker_hits(http: httpx.Client) -> None:
    scores = [h["score"] for h in post(http, top_k=10, mode="dense").json()["hits"]]
    floor = scores[3]
    kept = post(http, top_k=10, mode="dense", min_score=floor).json()["hits"]
    assert [h["score"] for h in kept] == [s for s in scores if s >= floor]
    assert len(kept) < len(scores)


def test_unknown_source_is_a_400_listing_the_known_ones(http: httpx.Client) -> None:
    """Regression: a filter on a source that does not exist silently returned no hits."""
    response = post(http, filters={"sources": ["policies", "nosuch"]})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "unknown_source"
    assert body["message"] == (
        "unknown source(s) nosuch: the published index has handbook, policies"
    )
    assert body["details"][0]["field"] == "filters.sources"


def test_client_pages_and_unknown_source(base_url: str) -> None:
    with RagClient(base_url) as client:
        first = client.search(HOTEL, top_k=2, mode="bm25")
        assert first.next_offset == 2
        second = client.search(HOTEL, top_k=2, mode="bm25", offset=2)
        assert [h.rank for h in second.hits] == [3, 4]
        assert client.search(HOTEL, mode="dense", min_score=1.01).hits == []
        with pytest.raises(ServiceError) as caught:
            client.search(HOTEL, sources=["nosuch"])
    assert (caught.value.status, caught.value.code) == (400, "unknown_source")


@pytest.mark.parametrize("body", [{"offset": -1}, {"offset": 901}, {"min_score": "high"}])
def test_invalid_paging_is_a_422(http: httpx.Client, body: dict[str, Any]) -> None:
    response = post(http, **body)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] in ("offset", "min_score")
