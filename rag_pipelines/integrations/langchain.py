"""A LangChain retriever over the index service (extra: `pip install rag-pipelines[langchain]`)."""

from __future__ import annotations

from typing import Any

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:  # the optional extra is not installed
    raise ImportError(
        "the LangChain retriever needs langchain-core: pip install 'rag-pipelines[langchain]'"
    ) from exc
from pydantic import Field

from rag_pipelines.client import AsyncRagClient, RagClient
from rag_pipelines.integrations.hits import SearchOptions, hit_metadata
from rag_pipelines.retrieval.models import SearchResponse


class RagPipelinesRetriever(BaseRetriever):
    """Documents from `rag-pipelines serve`: one per hit, provenance and lineage in metadata.

    `RagPipelinesRetriever(base_url="http://127.0.0.1:8000", search=SearchOptions(top_k=4))`
    """

    base_url: str
    api_key: str | None = None
    timeout_s: float = 30.0
    search: SearchOptions = Field(default_factory=SearchOptions)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        with RagClient(self.base_url, self.api_key, self.timeout_s) as client:
            return self._documents(client.search(query, **self.search.kwargs()))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        async with AsyncRagClient(self.base_url, self.api_key, self.timeout_s) as client:
            return self._documents(await client.search(query, **self.search.kwargs()))

    def _documents(self, response: SearchResponse) -> list[Document]:
        return [
            Document(page_content=h.text, id=h.chunk_id, metadata=hit_metadata(h, self.base_url))
            for h in response.hits
        ]

    def __repr_args__(self) -> Any:
        # Never print the API key in logs or tracebacks.
        return [(k, "***" if k == "api_key" and v else v) for k, v in super().__repr_args__()]
