"""Document-level access through the real service: a restricted best match never leaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from rag_pipelines.config.access import ServiceSettings
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from tests.rerankers import SpyReranker
from tests.security.corpus import ACQUISITION, SALARIES, SALARY_QUERY, ZEPHYR_QUERY
from tests.service.server import serving

MODES = ("dense", "bm25", "graph", "hybrid")
SECRET = {SALARIES: "85,000", ACQUISITION: "42 million"}  # text only that document contains
SECRETS = tuple(SECRET.values())
# (query, restricted document it best matches, key with its group, key with another group)
CASES = [(SALARY_QUERY, SALARIES, "hr", "board"), (ZEPHYR_QUERY, ACQUISITION, "board", "hr")]
PUBLIC_HANDBOOK = 4  # handbook documents other than board/**


def search(client: httpx.Client, query: str, **body: Any) -> dict[str, Any]:
    """POST /v1/search (top_k 100: every hit the caller can get), asserting 200."""
    response = client.post("/v1/search", json={"query": query, "top_k": 100, **body})
    assert response.status_code == 200, response.text
    return response.json()


def keys_of(response: dict[str, Any]) -> list[str]:
    """Document keys of the hits, best first."""
    return [h["provenance"]["document_key"] for h in response["hits"]]


def chunk_of(clients: dict[str, httpx.Client], key: str) -> str:
    """The first chunk id of a document, read with the admin key."""
    response = clients["admin"].get(f"/v1/documents/{key}")
    assert response.status_code == 200, response.text
    return str(response.json()["chunks"][0]["chunk_id"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("query", "document", "member", "outsider"), CASES)
def test_restricted_best_match_is_first_for_its_group_only(
    clients: dict[str, httpx.Client],
    mode: str,
    query: str,
    document: str,
    member: str,
    outsider: str,
) -> None:
    for name in (member, "admin"):
        assert keys_of(search(clients[name], query, mode=mode))[0] == document, name
    for name in ("reader", outsider):
        response = search(clients[name], query, mode=mode)
        assert document not in keys_of(response), name
        assert not any(SECRET[document] in h["text"] for h in response["hits"]), name


def test_words_only_a_hidden_document_has_find_nothing(clients: dict[str, httpx.Client]) -> None:
    """Not even a count: BM25 on the hidden document's own words gives an empty result."""
    query = "Zephyr Robotics purchase"
    assert search(clients["reader"], query, mode="bm25")["hits"] == []
    assert keys_of(search(clients["board"], query, mode="bm25")) == [ACQUISITION]


def test_graph_reaches_the_public_neighbour_but_not_the_hidden_one(
    clients: dict[str, httpx.Client],
) -> None:
    """careers.md shares "salary band" with the hidden salary bands; only careers.md comes back."""
    hits = keys_of(search(clients["reader"], SALARY_QUERY, mode="graph"))
    assert "handbook/careers.md" in hits
    assert SALARIES not in hits and ACQUISITION not in hits


def test_reranker_is_only_shown_readable_candidates(
    clients: dict[str, httpx.Client], spy: SpyReranker
) -> None:
    spy.seen.clear()
    response = search(clients["reader"], SALARY_QUERY, mode="hybrid", rerank=True)
    assert response["reranked"] and response["hits"]
    assert spy.seen and not any(s in p for p in spy.seen for s in SECRETS)
    assert SALARIES not in keys_of(response)
    spy.seen.clear()
    response = search(clients["hr"], SALARY_QUERY, mode="hybrid", rerank=True)
    assert any(SECRETS[0] in p for p in spy.seen)  # the member's candidates reach it
    assert SALARIES in keys_of(response)


@pytest.mark.parametrize(
    ("document", "member", "outsider"), [(SALARIES, "hr", "board"), (ACQUISITION, "board", "hr")]
)
def test_hidden_document_is_a_404_like_a_missing_one(
    clients: dict[str, httpx.Client], document: str, member: str, outsider: str
) -> None:
    assert clients[member].get(f"/v1/documents/{document}").status_code == 200
    missing = clients[outsider].get(f"/v1/documents/{document}x").json()
    for name in ("reader", outsider):
        response = clients[name].get(f"/v1/documents/{document}")
        assert response.status_code == 404
        body = response.json()
        assert body["error"] == missing["error"] == "not_found"
        assert body["message"] == missing["message"].replace(f"{document}x", document)


@pytest.mark.parametrize("with_version", [False, True])
def test_lineage_of_a_hidden_chunk_is_a_404(
    clients: dict[str, httpx.Client], with_version: bool
) -> None:
    chunk = chunk_of(clients, SALARIES)
    version = clients["admin"].get("/v1/index").json()["version"]
    url = f"/v1/chunks/{chunk}/lineage" + (f"?version={version}" if with_version else "")
    assert clients["hr"].get(url).status_code == 200
    for name in ("reader", "board"):
        response = clients[name].get(url)
        assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_lineage_counts_only_readable_documents(clients: dict[str, httpx.Client]) -> None:
    url = f"/v1/chunks/{chunk_of(clients, 'handbook/vpn.md')}/lineage"
    seen = {n: clients[n].get(url).json()["source_version"] for n in ("reader", "board")}
    assert seen["reader"]["documents_in_source"] == PUBLIC_HANDBOOK
    assert seen["reader"]["source_content_hash"] is None
    assert seen["board"]["documents_in_source"] == PUBLIC_HANDBOOK + 1
    assert seen["board"]["source_content_hash"]


def test_feedback_on_a_hidden_chunk_is_refused(clients: dict[str, httpx.Client]) -> None:
    body = {"query": SALARY_QUERY, "chunk_id": chunk_of(clients, SALARIES), "useful": True}
    response = clients["reader"].post("/v1/feedback", json=body)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert clients["hr"].post("/v1/feedback", json=body).status_code == 201


def test_manifest_counts_only_what_the_caller_reads(clients: dict[str, httpx.Client]) -> None:
    reader = clients["reader"].get("/v1/index").json()["manifest"]
    admin = clients["admin"].get("/v1/index").json()["manifest"]
    assert admin["documents"] == PUBLIC_HANDBOOK + 2 and set(admin["sources"]) == {"handbook", "hr"}
    assert reader["documents"] == PUBLIC_HANDBOOK
    assert set(reader["sources"]) == {"handbook"}
    assert reader["sources"]["handbook"]["documents"] == PUBLIC_HANDBOOK
    assert reader["chunks"] == reader["sources"]["handbook"]["chunks"] < admin["chunks"]
    assert "access" in admin["settings"] and "access" not in reader["settings"]
    assert "board" not in str(reader) and "hr" not in reader["sources"]


@pytest.fixture(scope="module")
def anonymous(secured_config: SourcesFile) -> Iterator[httpx.Client]:
    """The same index served without `service.auth`."""
    config = secured_config.model_copy(update={"service": ServiceSettings()})
    with (
        serving(create_app(PipelineContext(config))) as url,
        httpx.Client(base_url=url, timeout=60.0) as client,
    ):
        yield client


@pytest.mark.parametrize("mode", MODES)
def test_without_auth_callers_read_public_documents_only(
    anonymous: httpx.Client, mode: str
) -> None:
    hits = keys_of(search(anonymous, SALARY_QUERY, mode=mode))
    assert hits and SALARIES not in hits and ACQUISITION not in hits
    assert anonymous.get(f"/v1/documents/{SALARIES}").status_code == 404
    assert anonymous.get("/v1/documents/handbook/vpn.md").status_code == 200
