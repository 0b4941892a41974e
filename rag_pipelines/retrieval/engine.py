"""Answer queries from one index version: dense, BM25 and graph legs, fusion, reranking."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag_pipelines.config.models import (
    Bm25QuerySettings,
    Bm25Settings,
    FusionSettings,
    RerankSettings,
)
from rag_pipelines.index.access import AccessPolicy, Readers, can_read
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.index.graph_build import chunk_node
from rag_pipelines.index.graph_store import load_walk_layers
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.phrases import candidate_phrases
from rag_pipelines.index.vector_store import PayloadFilter, SparseVector, VectorHit, VectorStore
from rag_pipelines.pipeline.indexes import BM25_ACCESS, BM25_MODEL, GRAPH
from rag_pipelines.pipeline.snapshot import CHUNKS, DOCUMENTS
from rag_pipelines.retrieval.access import VersionAccess
from rag_pipelines.retrieval.aggregate import fuse_legs
from rag_pipelines.retrieval.filters import matches
from rag_pipelines.retrieval.fusion import Fused
from rag_pipelines.retrieval.lookup import SnapshotLookup
from rag_pipelines.retrieval.models import Hit, Mode, SearchResponse
from rag_pipelines.retrieval.prf import expand, weighted_query_vector
from rag_pipelines.retrieval.query_weights import QueryWeights, leg_features
from rag_pipelines.retrieval.rerank import CrossEncoderReranker, blend_orders

Encoder = Callable[[str], np.ndarray]


@dataclass
class LegResult:
    """One leg's ranking: chunk ids best first, with scores and payloads where known."""

    ids: list[str]
    scores: dict[str, float] = field(default_factory=dict)
    payloads: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_hits(cls, hits: list[VectorHit]) -> LegResult:
        """A leg result from store hits."""
        return cls(
            ids=[h.chunk_id for h in hits],
            scores={h.chunk_id: h.score for h in hits},
            payloads={h.chunk_id: h.payload for h in hits},
        )


class VersionIndex:
    """Read-only view of one complete version; safe to share between threads."""

    def __init__(
        self,
        manifest: BuildManifest,
        build_dir: Path,
        store: VectorStore,
        encode: Encoder,
        reranker: CrossEncoderReranker | None = None,
        rerank_default: bool = False,
    ) -> None:
        self.manifest = manifest
        self.version = manifest.version
        self.store = store
        self.encode = encode
        self.reranker = reranker
        self.rerank_default = rerank_default
        self.fusion = FusionSettings.model_validate(manifest.retrieval.get("fusion", {}))
        self.rerank_settings = RerankSettings.model_validate(manifest.retrieval.get("rerank", {}))
        self.query_weights: QueryWeights | None = None  # a learned per-query weight, if fit
        self.prf = Bm25QuerySettings.model_validate(manifest.retrieval.get("bm25", {})).prf
        graph_settings = manifest.settings.get("graph", {})
        self.seed_hits = int(graph_settings.get("seed_hits", 5))
        self.walk_steps = int(graph_settings.get("walk_steps", 3))
        self.restart = float(graph_settings.get("restart", 0.3))
        self.max_phrase_words = int(graph_settings.get("max_phrase_words", 3))
        self.bm25, tokenizer_settings = Bm25Model.load(build_dir / BM25_MODEL)
        self.bm25_access = Bm25AccessStats.load(build_dir / BM25_ACCESS)
        self.tokenize = Bm25Tokenizer(Bm25Settings.model_validate(tokenizer_settings))
        nodes, transition, owners, layers = load_walk_layers(build_dir / GRAPH)
        self.walker = GraphWalker(nodes, transition)
        self.access = VersionAccess(
            AccessPolicy.from_settings(manifest.settings), self.walker, owners, layers
        )
        self.lookup = SnapshotLookup(build_dir / DOCUMENTS, build_dir / CHUNKS)

    # -- legs -------------------------------------------------------------------------------
    def dense(self, vector: np.ndarray, limit: int, flt: PayloadFilter | None) -> LegResult:
        """Nearest chunks by embedding."""
        return LegResult.from_hits(self.store.search(self.manifest.collection, vector, limit, flt))

    def keyword(
        self, query: str, limit: int, flt: PayloadFilter | None, readers: Readers = None
    ) -> LegResult:
        """Chunks by BM25, with the idf of the chunks `readers` may read."""
        terms = self.tokenize(query)
        indices, values = self.bm25.query_vector(terms)
        hits = self._sparse(indices, values, limit, flt, readers)
        if self.prf.enabled and hits:  # issue 16 hook: RM3 re-query (retrieval/prf.py)
            feedback = [
                (
                    self.tokenize(str(h.payload.get("embed_text") or h.payload.get("text", ""))),
                    h.score,
                )
                for h in hits[: self.prf.fb_docs]
            ]
            indices, values = weighted_query_vector(self.bm25, expand(self.prf, terms, feedback))
            hits = self._sparse(indices, values, limit, flt, readers)
        return LegResult.from_hits(hits)

    def _sparse(
        self,
        indices: list[int],
        values: list[float],
        limit: int,
        flt: PayloadFilter | None,
        readers: Readers,
    ) -> list[VectorHit]:
        stats = self.bm25_access
        if stats is not None and readers is not None and not self.access.open_to(readers):
            visible = frozenset(c for c in stats.documents if can_read(c, readers))
            values = stats.query_weights(self.bm25, indices, values, visible)
        return self.store.search_sparse(
            self.manifest.bm25_collection, SparseVector(indices, values), limit, flt
        )

    def graph(
        self,
        query: str,
        limit: int,
        flt: PayloadFilter | None,
        seeds_from: list[LegResult],
        walker: GraphWalker | None = None,
    ) -> LegResult:
        """Chunks by a walk from the query's key phrases and the other legs' top hits.

        `walker` is the caller's view of the graph (hidden documents removed); the legs it is
        seeded from must come from the same view.
        """
        walker = walker or self.walker
        seeds: dict[int, float] = {}
        for phrase in set(candidate_phrases(query, self.max_phrase_words)):
            for i in walker.phrases.get(phrase, ()):  # its node in every access layer
                seeds[i] = 1.0 + phrase.count(" ")
        for leg in seeds_from:
            for rank, chunk_id in enumerate(leg.ids[: self.seed_hits], start=1):
                if (node := walker.index.get(chunk_node(chunk_id))) is not None:
                    seeds[node] = seeds.get(node, 0.0) + 1.0 / rank
        scores = walker.walk_indices(seeds, self.walk_steps, self.restart)
        ranked = sorted(scores, key=lambda c: (-scores[c], c))[: limit * 3]
        payloads = self.store.retrieve(self.manifest.collection, ranked)
        kept = [c for c in ranked if c in payloads and matches(payloads[c], flt)][:limit]
        return LegResult(ids=kept, scores={c: scores[c] for c in kept}, payloads=payloads)

    # -- search -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        top_k: int = 10,
        mode: Mode = "hybrid",
        rerank: bool | None = None,
        flt: PayloadFilter | None = None,
        readers: Readers = None,
    ) -> SearchResponse:
        """Hits of one mode, optionally reranked; every hit from this version.

        `readers` are the caller's groups (None: everything). Every leg applies them itself, so
        a hidden chunk is never a candidate, a seed, a graph neighbour or a rerank input.
        """
        started = time.perf_counter()
        flt = self.access.restrict(flt, readers)
        walker = self.access.walker_for(readers)
        do_rerank = self.rerank_default if rerank is None else rerank
        if do_rerank and self.reranker is None:
            do_rerank = False
        depth = max(top_k, self.rerank_settings.top_n if do_rerank else 0)
        limit = max(depth, self.fusion.candidates if mode == "hybrid" else depth)
        legs: dict[str, LegResult] = {}
        if mode in ("dense", "hybrid") or (mode == "graph" and self.seed_hits):
            legs["dense"] = self.dense(self.encode(query), limit, flt)
        if mode in ("bm25", "hybrid") or (mode == "graph" and self.seed_hits):
            legs["bm25"] = self.keyword(query, limit, flt, readers)
        if mode in ("graph", "hybrid"):
            legs["graph"] = self.graph(
                query, limit, flt, [legs[k] for k in ("dense", "bm25") if k in legs], walker
            )

        payloads: dict[str, dict[str, Any]] = {}
        for leg in legs.values():
            payloads.update(leg.payloads)
        if mode == "hybrid":
            fused = self._fuse(query, legs, payloads)[:depth]
            ordered = [(f.id, f.score, f.ranks) for f in fused]
        else:
            leg = legs[mode]
            ranks_by_id = {
                cid: {name: r.ids.index(cid) + 1 for name, r in legs.items() if cid in r.scores}
                for cid in leg.ids[:depth]
            }
            ordered = [(cid, leg.scores[cid], ranks_by_id[cid]) for cid in leg.ids[:depth]]

        rerank_scores: dict[str, float] = {}
        if do_rerank and ordered and self.reranker is not None:
            head = ordered[: self.rerank_settings.top_n]
            passages = [
                str(payloads[cid].get("embed_text") or payloads[cid].get("text", ""))
                for cid, _, _ in head
            ]
            result = self.reranker.rerank(query, passages, self.rerank_settings.budget_ms)
            rerank_scores = {head[i][0]: s for i, s in result.scores.items()}
            ordered = (
                blend_orders(head, result.order, self.rerank_settings.blend) + ordered[len(head) :]
            )

        hits = [
            Hit.from_payload(
                rank,
                rerank_scores.get(cid, score),
                payloads[cid],
                self.version,
                self.manifest.model.key,
                ranks,
                rerank_scores.get(cid),
            )
            for rank, (cid, score, ranks) in enumerate(ordered[:top_k], start=1)
        ]
        return SearchResponse(
            query=query,
            mode=mode,
            reranked=bool(rerank_scores),
            index_version=self.version,
            model_fingerprint=self.manifest.model.key,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
        )

    def _fuse(
        self, query: str, legs: dict[str, LegResult], payloads: dict[str, dict[str, Any]]
    ) -> list[Fused]:
        """RRF of the legs; issue 16 hooks: per-query weights and document-level fusion."""
        weights: Mapping[str, float] = {str(k): v for k, v in self.fusion.weights.items()}
        doc_of = {
            c: f"{p.get('source', '')}/{p.get('document_id', '')}" for c, p in payloads.items()
        }
        pairs = {name: (leg.ids, leg.scores) for name, leg in legs.items()}
        if self.query_weights is not None and "dense" in legs and "bm25" in legs:
            x = leg_features(pairs["dense"], pairs["bm25"], doc_of, len(self.tokenize(query)))
            weights = self.query_weights.weights(x, weights)
        return fuse_legs(pairs, doc_of, weights, self.fusion)

    def passage(self, chunk_id: str) -> str | None:
        """What the reranker reads for a chunk: its context header and text."""
        chunk = self.lookup.chunk(chunk_id)
        return chunk.embed_text if chunk is not None else None

    def close(self) -> None:
        """Release this version's open collections."""
        self.store.release(self.manifest.collection)
        self.store.release(self.manifest.bm25_collection)
