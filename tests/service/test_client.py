"""RagClient against the real service: typed results and typed errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rag_pipelines.client import RagClient, ServiceError
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.retrieval.models import SearchResponse
from rag_pipelines.service.app import create_app
from rag_pipelines.service.schemas import DocumentResponse, IndexResponse
from tests.service.pipeline import NESTED_ID, write_sources
from tests.service.server import serving


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[RagClient]:
    """A client of the module's service."""
    with RagClient(base_url + "/", timeout_s=60.0) as rag:
        yield rag


def test_ready_and_index(client: RagClient, example_config: SourcesFile) -> None:
    assert client.ready() is True
    index = client.index()
    assert isinstance(index, IndexResponse)
    pointer = PipelineContext(example_config).registry.live()
    assert pointer is not None
    assert index.version == pointer.version and index.published_at == pointer.published_at
    assert index.manifest["documents"] == 10


def test_search_returns_typed_hits_with_provenance(client: RagClient) -> None:
    response = client.search("hotel price cap per night", top_k=5, mode="hybrid")
    assert isinstance(response, SearchResponse)
    assert response.mode == "hybrid" and len(response.hits) == 5
    top = response.hits[0]
    assert top.provenance.document_key == "policies/travel-policy.pdf"
    assert top.provenance.pages
    assert {h.provenance.index_version for h in response.hits} == {response.index_version}


def test_search_passes_every_filter(client: RagClient) -> None:
    query = "hotel price cap per night"
    assert {h.provenance.source for h in client.search(query, sources=["handbook"]).hits} == {
        "handbook"
    }
    assert {h.provenance.source for h in client.search(query, tags=["policy"]).hits} == {"policies"}
    by_metadata = client.search(query, mode="bm25", metadata={"region": "eu"}).hits
    assert by_metadata and {h.provenance.source for h in by_metadata} == {"policies"}
    assert client.search(query, metadata={"region": "us"}).hits == []


def test_default_mode_is_the_pipelines(client: RagClient, example_config: SourcesFile) -> None:
    response = client.search("VPN setup")
    assert response.mode == example_config.retrieval.default_mode


def test_document_of_a_hit(client: RagClient) -> None:
    hit = client.search("hotel price cap per night", top_k=1).hits[0]
    document = client.document(hit.provenance.source, hit.provenance.document_id)
    assert isinstance(document, DocumentResponse)
    assert document.document_key == hit.provenance.document_key
    assert hit.chunk_id in [c.chunk_id for c in document.chunks]


def test_document_id_that_needs_quoting(client: RagClient) -> None:
    """Regression: the client put the raw id in the URL, so '#' cut it off (a 404)."""
    document = client.document("handbook", NESTED_ID)
    assert document.document_id == NESTED_ID
    assert document.chunks


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query": "   "}, "query"),
        ({"query": "vpn", "top_k": 0}, "top_k"),
        ({"query": "vpn", "top_k": 101}, "top_k"),
        ({"query": "vpn", "mode": "semantic"}, "mode"),
        ({"query": "x" * 2001}, "query"),
    ],
)
def test_invalid_search_is_a_service_error_422(
    client: RagClient, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        client.search(**kwargs)  # type: ignore[arg-type]
    error = caught.value
    assert error.status == 422
    assert error.code == "invalid_request"
    assert [d["field"] for d in error.details] == [field]
    assert str(error).startswith(f"422 invalid_request: {field}: ")


def test_unknown_document_is_a_service_error_404(client: RagClient) -> None:
    with pytest.raises(ServiceError) as caught:
        client.document("policies", "no-such-file.md")
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    assert "policies/no-such-file.md" in str(caught.value)


def test_not_ready_and_503_without_a_published_index(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = write_sources(tmp_path_factory.mktemp("client-empty"))
    with serving(create_app(PipelineContext(config))) as url, RagClient(url) as empty:
        assert empty.ready() is False
        with pytest.raises(ServiceError) as caught:
            empty.search("vpn")
        assert (caught.value.status, caught.value.code) == (503, "no_index")
        with pytest.raises(ServiceError) as caught:
            empty.index()
        assert (caught.value.status, caught.value.code) == (503, "no_index")
