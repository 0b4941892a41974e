"""Search the published version with the model that built it."""

from __future__ import annotations

import threading

from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.errors import ModelLoadError
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import PayloadFilter, VectorStore
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.retrieval.models import Hit, SearchResponse


class Searcher:
    """Reads LIVE.json once per query, so every response comes from one complete version.

    Queries are embedded with the model recorded in that version's manifest, not the one
    currently configured: after a model change the old version keeps answering correctly until
    the new one is published.
    """

    def __init__(self, ctx: PipelineContext, store: VectorStore | None = None) -> None:
        self.ctx = ctx
        self._store = store
        self._models: dict[str, SentenceTransformerModel] = {}
        self._lock = threading.Lock()

    @property
    def store(self) -> VectorStore:
        """The vector store (opened on first use)."""
        if self._store is None:
            self._store = open_vector_store(self.ctx.config.index.qdrant, self.ctx.workspace)
        return self._store

    def model_for(self, manifest: BuildManifest) -> SentenceTransformerModel:
        """The embedding model a version was built with (loaded once, fingerprint verified)."""
        key = manifest.model.key
        with self._lock:
            model = self._models.get(key)
            if model is None:
                settings = self.ctx.config.embedding.model_copy(
                    update={
                        "model": manifest.model_ref,
                        "revision": manifest.model.revision,
                        "normalize": manifest.model.normalize,
                    }
                )
                model = SentenceTransformerModel(settings)
                if model.fingerprint.key != key:
                    raise ModelLoadError(
                        f"index {manifest.version} was built with {key} but {manifest.model_ref} "
                        f"now loads as {model.fingerprint.key}; rebuild the index"
                    )
                self._models[key] = model
        return model

    def search(
        self, query: str, top_k: int = 10, flt: PayloadFilter | None = None
    ) -> SearchResponse:
        """Top-k chunks of the live version for a query."""
        manifest = self.ctx.registry.live_manifest()
        vector = self.model_for(manifest).encode([query])[0]
        found = self.store.search(manifest.collection, vector, top_k, flt)
        hits = [
            Hit.from_payload(i + 1, h.score, h.payload, manifest.version, manifest.model.key)
            for i, h in enumerate(found)
        ]
        return SearchResponse(
            query=query, index_version=manifest.version, model=manifest.model.key, hits=hits
        )

    def close(self) -> None:
        """Release the store."""
        if self._store is not None:
            self._store.close()
