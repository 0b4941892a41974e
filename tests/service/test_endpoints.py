"""The real service under uvicorn: every endpoint over the published example index."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from rag_pipelines.config.legs import leg_names
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from tests.service.pipeline import NESTED_ID

MODES = ("dense", "bm25", "graph", "hybrid")
REMOTE = "How many days per week can I work remotely?"
HOTEL = "hotel price cap per night"
ROUTES = {
    ("POST", "/v1/search"),
    ("GET", "/v1/documents/{source}/{document_id}"),
    ("GET", "/v1/index"),
    ("GET", "/v1/chunks/{chunk_id}/lineage"),
    ("POST", "/v1/feedback"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
}


def live_version(config: SourcesFile) -> str:
    """The version LIVE.json names."""
    pointer = PipelineContext(config).registry.live()
    assert pointer is not None
    return pointer.version


def search(http: httpx.Client, query: str, **body: Any) -> dict[str, Any]:
    """POST /v1/search, asserting 200."""
    response = http.post("/v1/search", json={"query": query, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_healthz(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_the_live_version(http: httpx.Client, example_config: SourcesFile) -> None:
    response = http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "index_version": live_version(example_config)}


def test_index_returns_the_live_manifest(http: httpx.Client, example_config: SourcesFile) -> None:
    response = http.get("/v1/index")
    assert response.status_code == 200
    body = response.json()
    manifest = body["manifest"]
    assert body["version"] == manifest["version"] == live_version(example_config)
    assert body["published_at"]
    assert set(manifest["sources"]) == {"policies", "handbook"}
    assert manifest["documents"] == sum(s["documents"] for s in manifest["sources"].values())
    assert manifest["documents"] == 10  # 4 policies + 5 handbook files + the nested rota
    assert manifest["chunks"] == sum(s["chunks"] for s in manifest["sources"].values())
    assert manifest["chunks"] == manifest["vectors"] == manifest["bm25_points"]
    assert manifest["chunks"] == manifest["graph_chunks"] > manifest["documents"]
    model = manifest["model"]
    assert model["name"].startswith("all-MiniLM-L6-v2")
    assert model["dimension"] == 384 and model["normalize"] is True
    assert len(model["weights_sha256"] or model["revision"]) >= 16
    hit = search(http, REMOTE, top_k=1)["hits"][0]
    assert hit["provenance"]["model_fingerprint"].startswith(f"{model['name']}@")
    assert hit["provenance"]["model_fingerprint"].endswith("/d384/norm")


def test_openapi_lists_every_route(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    listed = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert listed == ROUTES
    search_op = spec["paths"]["/v1/search"]["post"]
    assert {"200", "422", "503"} <= set(search_op["responses"])
    assert "SearchRequest" in spec["components"]["schemas"]
    assert "404" in spec["paths"]["/v1/documents/{source}/{document_id}"]["get"]["responses"]


@pytest.mark.parametrize("mode", MODES)
def test_search_hits_carry_score_ranks_text_and_provenance(
    http: httpx.Client, example_config: SourcesFile, mode: str
) -> None:
    body = search(http, REMOTE, top_k=8, mode=mode)
    version = live_version(example_config)
    assert body["mode"] == mode and body["index_version"] == version
    hits = body["hits"]
    assert len(hits) == 8
    assert [h["rank"] for h in hits] == list(range(1, 9))
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert "3 days" in " ".join(h["text"] for h in hits[:3])
    for hit in hits:
        assert hit["text"].strip()
        assert hit["ranks"] and set(hit["ranks"]) <= set(leg_names())
        if mode != "hybrid":
            assert hit["ranks"][mode] == hit["rank"]
        prov = hit["provenance"]
        assert prov["source"] in {"policies", "handbook"}
        assert prov["document_id"]
        assert prov["document_key"] == f"{prov['source']}/{prov['document_id']}"
        assert prov["document_uri"].startswith("file://")
        assert prov["document_uri"].endswith(quote(prov["document_id"]))
        assert prov["section"] and prov["title"]
        assert prov["chunk_id"] == hit["chunk_id"]
        assert prov["index_version"] == version
        assert prov["model_fingerprint"] == body["model_fingerprint"]


def test_hybrid_ranks_name_exactly_the_legs_that_found_each_hit(http: httpx.Client) -> None:
    """Each leg's rank in a hybrid hit equals that chunk's rank in the leg searched alone."""
    hybrid = search(http, HOTEL, top_k=30, mode="hybrid")["hits"]
    for leg in leg_names():
        alone = search(http, HOTEL, top_k=100, mode=leg)["hits"]
        rank_of = {h["chunk_id"]: h["rank"] for h in alone}
        for hit in hybrid:
            assert hit["ranks"].get(leg) == rank_of.get(hit["chunk_id"]), (leg, hit["chunk_id"])
    # Both cases occur: hits every leg found, and hits only some legs found.
    assert any(set(h["ranks"]) == set(leg_names()) for h in hybrid)
    assert any(set(h["ranks"]) < set(leg_names()) for h in hybrid)


def test_pdf_hits_carry_their_pages(http: httpx.Client) -> None:
    hits = search(http, HOTEL, top_k=10, mode="hybrid", filters={"sources": ["policies"]})["hits"]
    pdf = [h for h in hits if h["provenance"]["document_id"] == "travel-policy.pdf"]
    assert pdf, "the travel policy PDF should answer a hotel price question"
    assert hits[0]["provenance"]["document_id"] == "travel-policy.pdf"
    for hit in pdf:
        assert hit["provenance"]["pages"] and all(p >= 1 for p in hit["provenance"]["pages"])
    assert all(not h["provenance"]["pages"] for h in hits if h not in pdf)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("filters", "expected_source"),
    [
        ({"sources": ["handbook"]}, "handbook"),
        ({"tags": ["policy"]}, "policies"),
        ({"metadata": {"region": "eu"}}, "policies"),
        ({"sources": ["policies", "handbook"], "tags": ["handbook"]}, "handbook"),
    ],
)
def test_filters_return_only_matching_hits(
    http: httpx.Client, mode: str, filters: dict[str, Any], expected_source: str
) -> None:
    unfiltered = search(http, HOTEL, top_k=20, mode=mode)["hits"]
    assert {h["provenance"]["source"] for h in unfiltered} == {"policies", "handbook"}
    hits = search(http, HOTEL, top_k=20, mode=mode, filters=filters)["hits"]
    assert hits
    assert {h["provenance"]["source"] for h in hits} == {expected_source}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "filters",
    [
        {"tags": ["nosuchtag"]},
        {"metadata": {"region": "us"}},
        {"metadata": {"nosuchkey": 1}},
        {"sources": ["handbook"], "metadata": {"region": "eu"}},
    ],
)
def test_non_matching_filter_returns_no_hits(
    http: httpx.Client, mode: str, filters: dict[str, Any]
) -> None:
    body = search(http, HOTEL, top_k=10, mode=mode, filters=filters)
    assert body["hits"] == []


def test_document_of_a_hit_lists_its_sections_and_chunk(http: httpx.Client) -> None:
    hit = search(http, HOTEL, top_k=1, mode="hybrid")["hits"][0]
    prov = hit["provenance"]
    response = http.get(f"/v1/documents/{prov['document_key']}")
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["document_key"] == prov["document_key"]
    assert (doc["source"], doc["document_id"]) == (prov["source"], prov["document_id"])
    assert doc["uri"] == prov["document_uri"]
    assert doc["index_version"] == prov["index_version"]
    assert doc["pages"] and set(prov["pages"]) <= set(doc["pages"])
    assert doc["sections"] and all(s["text"] for s in doc["sections"])
    chunk_ids = [c["chunk_id"] for c in doc["chunks"]]
    assert hit["chunk_id"] in chunk_ids
    assert [c["ordinal"] for c in doc["chunks"]] == sorted(c["ordinal"] for c in doc["chunks"])


def test_document_id_that_needs_quoting(http: httpx.Client) -> None:
    hits = search(http, "who is on call and the standby allowance", top_k=3, mode="hybrid")["hits"]
    assert hits[0]["provenance"]["document_id"] == NESTED_ID
    response = http.get(f"/v1/documents/handbook/{quote(NESTED_ID)}")
    assert response.status_code == 200, response.text
    assert response.json()["document_id"] == NESTED_ID
    assert hits[0]["chunk_id"] in [c["chunk_id"] for c in response.json()["chunks"]]


@pytest.mark.parametrize(
    "path", ["/v1/documents/policies/no-such-file.md", "/v1/documents/nosource/faq.md"]
)
def test_unknown_document_is_a_404_json_error(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "not_found"
    assert path.removeprefix("/v1/documents/") in body["message"]
    assert "Traceback" not in response.text


def metric_samples(http: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, labels) → value of every sample /metrics exposes."""
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_count_requests_and_time_searches_per_mode(
    http: httpx.Client, example_config: SourcesFile
) -> None:
    before = metric_samples(http)
    per_mode = 3
    for mode in MODES:
        for _ in range(per_mode):
            search(http, REMOTE, top_k=5, mode=mode)
    http.get("/v1/documents/policies/no-such-file.md")
    after = metric_samples(http)

    def delta(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        assert key in after, f"no series {name}{labels}"
        return after[key] - before.get(key, 0.0)

    requests = "rag_http_requests_total"
    assert delta(requests, route="/v1/search", method="POST", status="200") == per_mode * 4
    document_route = "/v1/documents/{source}/{document_id:anypath}"
    assert delta(requests, route=document_route, method="GET", status="404") == 1
    for mode in MODES:
        labels = {"mode": mode, "reranked": "false"}
        assert delta("rag_search_latency_seconds_count", **labels) == per_mode
        assert delta("rag_search_latency_seconds_sum", **labels) > 0
        assert delta("rag_search_latency_seconds_bucket", le="+Inf", **labels) == per_mode
        buckets = {
            dict(k[1])["le"]
            for k in after
            if k[0].endswith("_bucket") and labels.items() <= dict(k[1]).items()
        }
        assert {"0.005", "0.1", "1.0", "+Inf"} <= buckets
    version = live_version(example_config)
    assert after[("rag_index_version_info", frozenset({("version", version)}))] == 1.0
