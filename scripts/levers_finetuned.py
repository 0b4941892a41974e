"""Issue 16, lever 1 and its cheap combinations, on the rankings eval_levers.py collected.

The fine-tuned MiniLM as the dense leg (RRF as served, RRF re-tuned, min-max re-tuned), both
dense legs at once, and BM25's k1 / b re-fit on the version's own tokens (chosen by BM25
alone on the tuning queries). Every setting is chosen on the tuning queries; held-back is
reported. The fine-tuned model was trained on the
tuning queries, so tuning over-rates its leg: each choice is also shown against what it gives
on held-back, never chosen there.
"""

from __future__ import annotations

import itertools
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.retrieval.aggregate import document_scores

Leg = tuple[list[str], dict[str, float]]
DEPTH = 300
BM25_GRID = tuple(itertools.product((0.3, 0.45, 0.6, 0.75, 0.9, 1.5), (0.5, 0.75, 0.9)))
MINMAX_GRID = [
    {"dense": d, "bm25": b, "graph": g}
    for d, b, g in itertools.product((1.0, 1.5, 2.0), (0.5, 1.0, 1.5, 2.0), (0.0, 0.25, 0.5))
]
BM25_MINMAX_GRID = [w for w in MINMAX_GRID if w["graph"] < 0.5]  # graph ≥ 0.5 never won


def top(ids: list[str], scores: np.ndarray, positive_only: bool = False) -> Leg:
    """The DEPTH best of a score vector, best first (ties: lower row first)."""
    best = np.argpartition(-scores, DEPTH)[:DEPTH]
    best = best[np.lexsort((best, -scores[best]))]
    kept = [int(i) for i in best if not positive_only or scores[i] > 0]
    return [ids[i] for i in kept], {ids[i]: float(scores[i]) for i in kept}


def finetuned_legs(ctx, index, golden: GoldenSet, name: str) -> dict[str, Leg] | None:
    """The fine-tuned MiniLM's dense leg per query, if `embedding_finetune` left a model.

    Its chunk vectors come from the embedding cache (the fine-tune step embedded the corpus).
    """
    from rag_pipelines.embedding.cache import EmbeddingCache
    from rag_pipelines.embedding.model import SentenceTransformerModel
    from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
    from rag_pipelines.pipeline.tuning.finetune import load_finetune_record

    record = load_finetune_record(ctx.workspace.root / "models" / name)
    if record is None:
        return None
    settings = ctx.config.embedding.model_copy(
        update={"finetune": None, "model": record.model_path}
    )
    model = SentenceTransformerModel(settings)
    chunks = snapshot_chunks(ctx, index.version)
    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)
    vectors = cache.get(model.fingerprint.key, [c.text_hash for c in chunks])
    cache.close()
    if len(vectors) < len({c.text_hash for c in chunks}):
        return None
    matrix = np.stack([vectors[c.text_hash] for c in chunks])
    ids = [c.id for c in chunks]
    queries = np.asarray(model.encode(list(golden.queries.values())))
    return {qid: top(ids, matrix @ queries[n]) for n, qid in enumerate(golden.queries)}


def bm25_legs(ctx, index, golden: GoldenSet, k1: float, b: float) -> dict[str, Leg]:
    """BM25 per query with another k1 / b, fit on the version's chunks and tokenizer."""
    import scipy.sparse as sp

    from rag_pipelines.index.bm25 import Bm25Model
    from rag_pipelines.pipeline.build.snapshot import snapshot_chunks

    chunks = snapshot_chunks(ctx, index.version)
    tokens = [index.tokenize(c.embed_text) for c in chunks]
    model = Bm25Model.fit(tokens, k1=k1, b=b, epsilon=index.bm25.epsilon)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for row, terms in enumerate(tokens):
        indices, values = model.document_vector(terms)
        rows += [row] * len(indices)
        cols += indices
        vals += values
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(len(chunks), len(model.vocab)))
    ids = [c.id for c in chunks]
    out: dict[str, Leg] = {}
    for qid, text in golden.queries.items():
        indices, values = model.query_vector(index.tokenize(text))
        q = np.zeros(len(model.vocab))
        q[indices] = values
        out[qid] = top(ids, np.asarray(matrix @ q).ravel(), positive_only=True)
    return out


class Minmax:
    """fusion.method minmax (as aggregate.minmax_documents ranks) with each leg's normalised
    document scores computed once per query, so a weight grid only re-adds them."""

    def __init__(self, legs: dict[str, dict[str, Leg]], doc_of: Mapping[str, str]) -> None:
        self.legs, self.doc_of = legs, doc_of
        self.norms: dict[tuple[str, str], list[tuple[str, float]]] = {}

    def norm(self, query: str, source: str) -> list[tuple[str, float]]:
        """A leg's top 100 documents by best chunk, min-max normalised."""
        key = (query, source)
        if key not in self.norms:
            ids, scores = self.legs[query][source]
            docs = document_scores(ids, scores, self.doc_of, "max")
            top = sorted(docs.items(), key=lambda kv: -kv[1])[:100]
            hi, lo = (top[0][1], top[-1][1]) if top else (0.0, 0.0)
            self.norms[key] = [(d, (v - lo) / (hi - lo) if hi > lo else 1.0) for d, v in top]
        return self.norms[key]

    def rank(self, query: str, names: Mapping[str, str], weights: Mapping[str, float]) -> list[str]:
        """Documents by the weighted sum of normalised scores (ties: first seen), top 100."""
        total: dict[str, float] = {}
        for leg, source in names.items():
            weight = weights.get(leg, 1.0)
            for doc, value in self.norm(query, source):
                total[doc] = total.get(doc, 0.0) + weight * value
        return [d for d, _ in sorted(total.items(), key=lambda kv: -kv[1])][:100]


def cached(path: Path, make: Callable[[], object]) -> object:
    """A pickled result in the state dir (legs are deterministic for a version)."""
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = make()
    if value is not None:
        path.write_bytes(pickle.dumps(value))
    return value


def finetuned_section(
    legs: dict[str, dict[str, Leg]],
    open_index: Callable[[], object],
    ctx,
    golden: GoldenSet,
    state: Path,
    version: str,
    chunk_fusion: Callable[..., list[str]],
    both: Callable[[Callable[[str], list[str]]], dict[str, dict[str, float]]],
    mean_tune: Callable[[Callable[[str], list[str]]], float],
    rrf_grid: list[tuple[int, dict[str, float]]],
    doc_of: Mapping[str, str],
    model: str = "finetuned",
) -> dict[str, object] | None:
    """Every lever-1 row: fine-tuned dense with RRF / min-max, two dense legs, BM25 k1 / b."""
    n = len(golden.queries)
    ft = cached(
        state / f"levers-{model}-{version}-{n}.pkl",
        lambda: finetuned_legs(ctx, open_index(), golden, model),
    )
    if ft is None:
        return None
    t = time.perf_counter()
    for q, leg in ft.items():  # type: ignore[attr-defined]
        legs[q]["dense_ft"] = leg
    base_w = {"dense": 1.0, "bm25": 1.0, "graph": 0.5}
    minmax_of = Minmax(legs, doc_of)
    with_ft = {"dense": "dense_ft", "bm25": "bm25", "graph": "graph"}

    def best_of(settings, rank):
        values = [mean_tune(lambda q, s=s: rank(q, s)) for s in settings]
        return settings[int(np.argmax(values))]  # ties: the first in grid order

    rrf = best_of(rrf_grid, lambda q, s: chunk_fusion(legs[q], with_ft, s[1], s[0], doc_of))
    minmax = best_of(MINMAX_GRID, lambda q, w: minmax_of.rank(q, with_ft, w))
    two = {"dense": "dense", "dense_ft": "dense_ft", "bm25": "bm25", "graph": "graph"}
    two_grid = [
        {"dense": a, "dense_ft": 1.0, "bm25": b, "graph": g}
        for a, b, g in itertools.product((0.25, 0.5, 1.0), (1.0, 1.5, 2.0), (0.0, 0.5))
    ]
    two_w = best_of(two_grid, lambda q, w: minmax_of.rank(q, two, w))
    out: dict[str, object] = {
        "dense_ft": both(lambda q: _docs(legs[q]["dense_ft"], doc_of)),
        "hybrid_ft_k100": both(lambda q: chunk_fusion(legs[q], with_ft, base_w, 100, doc_of)),
        "tuned": {"k": rrf[0], "weights": rrf[1]},
        "hybrid_ft_tuned": both(lambda q: chunk_fusion(legs[q], with_ft, rrf[1], rrf[0], doc_of)),
        "minmax_weights": minmax,
        "hybrid_ft_minmax_tuned": both(lambda q: minmax_of.rank(q, with_ft, minmax)),
        "two_dense_minmax_weights": two_w,
        "two_dense_minmax_tuned": both(lambda q: minmax_of.rank(q, two, two_w)),
    }
    bm25_rows: dict[str, object] = {}
    best_bm25: tuple[float, str, dict[str, float]] = (-1.0, "", {})
    for k1, b in BM25_GRID:
        name = f"bm25_k{k1}_b{b}"
        found = cached(
            state / f"levers-{name}-{version}-{n}.pkl",
            lambda k1=k1, b=b: bm25_legs(ctx, open_index(), golden, k1, b),
        )
        for q, leg in found.items():  # type: ignore[attr-defined]
            legs[q][name] = leg
        names = {"dense": "dense_ft", "bm25": name, "graph": "graph"}
        w = best_of(BM25_MINMAX_GRID, lambda q, w, nm=names: minmax_of.rank(q, nm, w))
        # chosen by BM25 alone: the fine-tuned leg's tuning bias must not pick BM25's shape
        value = mean_tune(lambda q, nm=name: _docs(legs[q][nm], doc_of))
        bm25_rows[name] = {
            "bm25_alone": both(lambda q, nm=name: _docs(legs[q][nm], doc_of)),
            "weights": w,
            "hybrid_ft_minmax": both(lambda q, nm=names, ww=w: minmax_of.rank(q, nm, ww)),
        }
        if value > best_bm25[0] + 1e-9:
            best_bm25 = (value, name, w)
    out["bm25_k1_b"] = bm25_rows
    out["bm25_chosen_on_tuning"] = best_bm25[1]
    out["seconds"] = round(time.perf_counter() - t, 1)
    return out


def _docs(leg: Leg, doc_of: Mapping[str, str]) -> list[str]:
    """A leg's documents by their best chunk (top 100)."""
    seen: dict[str, None] = {}
    for chunk_id in leg[0]:
        doc = doc_of.get(chunk_id)
        if doc is not None:
            seen.setdefault(doc)
    return list(seen)[:100]
