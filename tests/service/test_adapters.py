"""LangChain and LlamaIndex retrievers and the async client against the real service."""

from __future__ import annotations

import asyncio

import httpx
from langchain_core.documents import Document
from llama_index.core.schema import NodeWithScore

from rag_pipelines.client import AsyncRagClient, RagClient
from rag_pipelines.integrations import langchain as lc
from rag_pipelines.integrations import llama_index as li
from rag_pipelines.integrations.hits import SearchOptions

HOTEL = "hotel price cap per night"


def test_langchain_retriever_returns_documents_with_lineage(base_url: str) -> None:
    retriever = lc.RagPipelinesRetriever(base_url=base_url, search=SearchOptions(top_k=3))
    documents = retriever.invoke(HOTEL)
    assert len(documents) == 3 and all(isinstance(d, Document) for d in documents)
    top = documents[0]
    assert top.metadata["document_key"] == "policies/travel-policy.pdf"
    assert top.id == top.metadata["chunk_id"] and "hotel" in top.page_content.lower()
    lineage = httpx.get(top.metadata["lineage_url"], timeout=30).json()
    assert lineage["chunk"]["id"] == top.metadata["chunk_id"]
    document = httpx.get(top.metadata["document_url"], timeout=30).json()
    assert top.metadata["chunk_id"] in [c["chunk_id"] for c in document["chunks"]]


def test_langchain_retriever_async_and_filters(base_url: str) -> None:
    options = SearchOptions(top_k=4, sources=["handbook"], mode="bm25")
    retriever = lc.RagPipelinesRetriever(base_url=base_url, search=options, api_key="secret")
    documents = asyncio.run(retriever.ainvoke(HOTEL))
    assert documents and {d.metadata["source"] for d in documents} == {"handbook"}
    assert "secret" not in repr(retriever)


def test_llama_index_retriever_returns_nodes_with_scores(base_url: str) -> None:
    retriever = li.RagPipelinesRetriever(base_url, search=SearchOptions(top_k=3, mode="dense"))
    nodes = retriever.retrieve(HOTEL)
    assert len(nodes) == 3 and all(isinstance(n, NodeWithScore) for n in nodes)
    with RagClient(base_url) as client:
        expected = client.search(HOTEL, top_k=3, mode="dense").hits
    assert [n.node.node_id for n in nodes] == [h.chunk_id for h in expected]
    assert [n.score for n in nodes] == [h.score for h in expected]
    assert nodes[0].node.metadata["lineage_url"].startswith(base_url + "/v1/chunks/")
    # Provenance stays out of what an LLM or an embedder reads.
    assert nodes[0].node.get_content(metadata_mode="llm") == nodes[0].node.get_content()


def test_llama_index_retriever_async(base_url: str) -> None:
    retriever = li.RagPipelinesRetriever(base_url, search=SearchOptions(top_k=2))
    nodes = asyncio.run(retriever.aretrieve(HOTEL))
    assert len(nodes) == 2 and nodes[0].node.metadata["source"] == "policies"


def test_async_client_matches_the_sync_one(base_url: str) -> None:
    async def run() -> None:
        async with AsyncRagClient(base_url) as client:
            assert await client.ready()
            response = await client.search(HOTEL, top_k=3, mode="hybrid")
            top = response.hits[0]
            document = await client.document(top.provenance.source, top.provenance.document_id)
            assert top.chunk_id in [c.chunk_id for c in document.chunks]
            lineage = await client.lineage(top.chunk_id, response.index_version)
            assert lineage.chunk["id"] == top.chunk_id
            assert (await client.index()).version == response.index_version
            record = await client.feedback(HOTEL, top.chunk_id, True, note="async")
            assert (record.chunk_id, record.useful, record.note) == (top.chunk_id, True, "async")

    asyncio.run(run())
    with RagClient(base_url) as client:
        assert client.search(HOTEL, top_k=3, mode="hybrid").hits[0].chunk_id is not None


def test_sync_client_lineage_and_feedback(base_url: str) -> None:
    with RagClient(base_url) as client:
        hit = client.search(HOTEL, top_k=1).hits[0]
        lineage = client.lineage(hit.chunk_id)
        assert lineage.document["id"] == hit.provenance.document_id
        record = client.feedback(HOTEL, hit.chunk_id, useful=False)
        assert record.useful is False and record.source == hit.provenance.source
