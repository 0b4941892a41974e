"""Answer queries from one index version: the registered legs, fusion, reranking."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from rag_pipelines.config.legs import HYBRID, plan
from rag_pipelines.config.models import (
    Bm25QuerySettings,
    Bm25Settings,
    FusionSettings,
    RerankSettings,
)
from rag_pipelines.index.access import AccessPolicy, Readers
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.index.graph_store import load_walk_layers
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.index.layout import BM25_ACCESS, BM25_MODEL, CHUNKS, DOCUMENTS, GRAPH
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.vector_store import PayloadFilter, VectorStore
from rag_pipelines.retrieval.access import VersionAccess
from rag_pipelines.retrieval.aggregate import fuse_legs
from rag_pipelines.retrieval.fusion import RankTable
from rag_pipelines.retrieval.legs.base import LegQuery, LegResult, registered_legs
from rag_pipelines.retrieval.lookup import SnapshotLookup
from rag_pipelines.retrieval.models import Hit, Mode, SearchResponse
from rag_pipelines.retrieval.query_weights import QueryWeights, leg_features
from rag_pipelines.retrieval.rerank import Reranker, blend_orders

Encoder = Callable[[str], np.ndarray]
Ordered = list[tuple[str, float, dict[str, int]]]
QUERY_VECTORS = 1024  # query embeddings kept per version (repeated queries skip the model)


class VectorCache:
    """An LRU map from query text to its embedding."""

    def __init__(self, encode: Encoder, size: int = QUERY_VECTORS) -> None:
        self._encode = encode
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        """The text's vector, computed once while it stays among the recent ones."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = self._encode(text)
        self.put(text, vector)
        return vector

    def clear(self) -> None:
        """Forget every vector."""
        with self._lock:
            self._vectors.clear()

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember a vector computed elsewhere (a batch of golden-set queries)."""
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)


class VersionIndex:
    """Read-only view of one complete version; safe to share between threads."""

    def __init__(
        self,
        manifest: BuildManifest,
        build_dir: Path,
        store: VectorStore,
        encode: Encoder,
        reranker: Reranker | None = None,
        rerank_default: bool = False,
        encode_many: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        self.manifest = manifest
        self.version = manifest.version
        self.store = store
        self.encode = VectorCache(encode)
        self.encode_many = encode_many or (lambda texts: np.stack([encode(t) for t in texts]))
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
    def run_legs(
        self,
        query: str,
        mode: Mode,
        limit: int,
        flt: PayloadFilter | None = None,
        walker: GraphWalker | None = None,
        vector: np.ndarray | None = None,
        readers: Readers = None,
    ) -> dict[str, LegResult]:
        """The legs a mode needs, stage by stage, one after another.

        Not side by side: on 2 cores a leg thread made hybrid 2-3x slower (ONNX Runtime's
        threads take both cores while it embeds, and a thread waiting for the GIL waits out
        the 5 ms switch interval), and once legs read no payloads each takes about 1 ms.
        """
        registered = registered_legs()
        needs = {name: leg.needs(self) for name, leg in registered.items()}
        q = LegQuery(query, limit, flt, walker, self.encode, vector, readers)
        results: dict[str, LegResult] = {}
        for stage in plan(mode, needs):
            prior = dict(results)
            for name in stage:
                results[name] = registered[name].run(self, q, prior)
        return results

    def rank(
        self, mode: Mode, results: Mapping[str, LegResult], depth: int, query: str = ""
    ) -> Ordered:
        """(chunk id, score, 1-based rank per leg) best first: one leg's order, or fused."""
        if mode == HYBRID and self.levers_on():
            return self._fuse(query, results, depth)
        if mode == HYBRID:
            table = RankTable({name: leg.ids for name, leg in results.items()})
            return [
                (f.id, f.score, f.ranks)
                for f in table.fused(self.fusion.weights, self.fusion.k, depth)
            ]
        leg = results[mode]
        ranks = {
            name: {c: r for r, c in reversed(list(enumerate(res.ids, start=1)))}
            for name, res in results.items()
        }
        scores = leg.score_of()
        return [
            (cid, scores[cid], {n: rk[cid] for n, rk in ranks.items() if cid in rk})
            for cid in leg.ids[:depth]
        ]

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
        Legs return ids and scores; payloads are read once, for the hits returned.
        """
        started = time.perf_counter()
        flt = self.access.restrict(flt, readers)
        walker = self.access.walker_for(readers)
        do_rerank = self.rerank_default if rerank is None else rerank
        if do_rerank and self.reranker is None:
            do_rerank = False
        depth = max(top_k, self.rerank_settings.top_n if do_rerank else 0)
        limit = max(depth, self.fusion.candidates if mode == HYBRID else depth)
        ordered = self.rank(
            mode, self.run_legs(query, mode, limit, flt, walker, None, readers), depth, query
        )
        head = ordered[: self.rerank_settings.top_n] if do_rerank else []
        payloads = self.store.retrieve(
            self.manifest.collection, [c for c, _, _ in ordered[: max(top_k, len(head))]]
        )
        rerank_scores: dict[str, float] = {}
        if head and self.reranker is not None:
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

    def levers_on(self) -> bool:
        """Whether hybrid fuses other than chunk-level RRF with constant weights."""
        f = self.fusion
        return f.method != "rrf" or f.aggregate != "chunk" or self.query_weights is not None

    def _fuse(self, query: str, results: Mapping[str, LegResult], depth: int) -> Ordered:
        """Fusion levers: per-query weights, document-level or min-max fusion."""
        weights: Mapping[str, float] = {str(k): v for k, v in self.fusion.weights.items()}
        doc_of = self.lookup.chunk_documents()
        pairs = {name: (leg.ids, leg.score_of()) for name, leg in results.items()}
        if self.query_weights is not None and "dense" in pairs and "bm25" in pairs:
            x = leg_features(pairs["dense"], pairs["bm25"], doc_of, len(self.tokenize(query)))
            weights = self.query_weights.weights(x, weights)
        return [(f.id, f.score, f.ranks) for f in fuse_legs(pairs, doc_of, weights, self.fusion)][
            :depth
        ]

    def passage(self, chunk_id: str) -> str | None:
        """What the reranker reads for a chunk: its context header and text."""
        chunk = self.lookup.chunk(chunk_id)
        return chunk.embed_text if chunk is not None else None

    def close(self) -> None:
        """Release this version's open collections."""
        self.store.release(self.manifest.collection)
        self.store.release(self.manifest.bm25_collection)
