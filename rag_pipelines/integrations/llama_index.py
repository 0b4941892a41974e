"""A LlamaIndex retriever over the index service: NodeWithScore per hit, provenance in metadata."""

from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag_pipelines.client import AsyncRagClient, RagClient
from rag_pipelines.integrations.hits import SearchOptions, hit_metadata
from rag_pipelines.retrieval.models import SearchResponse


class RagPipelinesRetriever(BaseRetriever):
    """Nodes from `rag-pipelines serve`; a node's id is the chunk id, its score the hit's."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        search: SearchOptions | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__()
        self.base_url = base_url
        self._api_key = api_key
        self.search = search or SearchOptions()
        self.timeout_s = timeout_s

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        with RagClient(self.base_url, self._api_key, self.timeout_s) as client:
            return self._nodes(client.search(query_bundle.query_str, **self.search.kwargs()))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        async with AsyncRagClient(self.base_url, self._api_key, self.timeout_s) as client:
            response = await client.search(query_bundle.query_str, **self.search.kwargs())
        return self._nodes(response)

    def _nodes(self, response: SearchResponse) -> list[NodeWithScore]:
        nodes = []
        for hit in response.hits:
            metadata = hit_metadata(hit, self.base_url)
            node = TextNode(
                id_=hit.chunk_id,
                text=hit.text,
                metadata=metadata,
                # Provenance is for the application, not for the LLM or an embedding of the node.
                excluded_llm_metadata_keys=list(metadata),
                excluded_embed_metadata_keys=list(metadata),
            )
            nodes.append(NodeWithScore(node=node, score=hit.score))
        return nodes
