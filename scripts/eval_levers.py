"""Retrieval-quality levers on SciFact: aggregation, RM3, learned per-query weights.

Usage: python scripts/eval_levers.py [--data DIR] [--state DIR] [--out FILE]

Runs after scripts/eval_scifact.py (same --state: it opens the live version that run built).
Each leg (dense, BM25, BM25+RM3 variants, graph) is run once per judged query and cached in
--state; every lever then only re-aggregates and re-fuses those rankings. Every choice is made
on the 554 tuning queries; the 255 held-back queries' judgements are used only to report.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from levers_finetuned import finetuned_section

from rag_pipelines.config.models import PrfSettings
from rag_pipelines.evaluation.golden import GoldenSet, load_beir
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.retrieval.aggregate import (
    Aggregation,
    document_ranking,
    minmax_documents,
)
from rag_pipelines.retrieval.fusion import fuse_rankings
from rag_pipelines.retrieval.query_weights import (
    ALPHA_GRID,
    FEATURES,
    fit_query_weights,
    leg_features,
    ndcg_at,
)

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DEPTH = 300  # chunks per leg, as run_golden asks the engine for (3 × 100 documents)
Leg = tuple[list[str], dict[str, float]]  # chunk ids best first, their scores
QueryLegs = dict[str, Leg]
PRF_VARIANTS = {
    f"rm3_d{d}_t{t}_w{w}": PrfSettings(enabled=True, fb_docs=d, fb_terms=t, original_weight=w)
    for d, t, w in ((10, 10, 0.5), (10, 20, 0.5), (10, 10, 0.7), (5, 10, 0.5), (10, 20, 0.7))
}
RRF_GRID = [
    (k, {"dense": d, "bm25": b, "graph": g})
    for k, d, b, g in itertools.product(
        (30, 60, 100), (1.0,), (0.5, 0.75, 1.0, 1.5, 2.0), (0.0, 0.25, 0.5, 1.0)
    )
]
AGGREGATIONS: dict[str, tuple[Aggregation, int]] = {
    "max": ("max", 1),
    "sum2": ("sum", 2),
    "sum3": ("sum", 3),
    "rrf2": ("rrf", 2),
    "rrf3": ("rrf", 3),
}


def collect(ctx, index, golden: GoldenSet) -> tuple[dict[str, QueryLegs], dict, dict]:
    """Every leg's ranking per query, chunk → document, and query term counts.

    Dense is exact search over the version's cached chunk vectors and BM25 the version's own
    model over its snapshot's chunks (the scores the sparse index computes); the graph leg is
    the engine's walk seeded from these, with RM3 variants seeding their own walk.
    """
    import scipy.sparse as sp

    from rag_pipelines.embedding.cache import EmbeddingCache
    from rag_pipelines.index.vector_store import PayloadFilter
    from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
    from rag_pipelines.retrieval.legs.base import LegQuery, LegResult, registered_legs
    from rag_pipelines.retrieval.prf import expand, weighted_query_vector

    chunks = snapshot_chunks(ctx, index.version)
    ids = [c.id for c in chunks]
    doc_of = {c.id: c.document_id for c in chunks}
    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)
    vectors = cache.get(index.manifest.model.key, [c.text_hash for c in chunks])
    cache.close()
    matrix = np.stack([vectors[c.text_hash] for c in chunks])
    tokens = [index.tokenize(c.embed_text) for c in chunks]
    rows, cols, vals = [], [], []
    for row, doc_terms in enumerate(tokens):
        indices, values = index.bm25.document_vector(doc_terms)
        rows += [row] * len(indices)
        cols += indices
        vals += values
    bm25 = sp.csr_matrix((vals, (rows, cols)), shape=(len(chunks), len(index.bm25.vocab)))
    texts = list(golden.queries.values())
    queries = np.asarray(index_encode_all(index, texts))
    flt = PayloadFilter(sources=("scifact",))

    def top(scores: np.ndarray) -> Leg:
        best = np.argpartition(-scores, DEPTH)[:DEPTH]
        best = best[np.lexsort((best, -scores[best]))]
        kept = [int(i) for i in best]
        return [ids[i] for i in kept], {ids[i]: float(scores[i]) for i in kept}

    def sparse_scores(indices: list[int], values: list[float]) -> np.ndarray:
        q = np.zeros(len(index.bm25.vocab))
        q[indices] = values
        return np.asarray(bm25 @ q).ravel()

    graph_leg = registered_legs()["graph"]

    def walk(text: str, dense: Leg, bm25: Leg) -> Leg:
        """The engine's graph leg seeded by these dense and BM25 rankings."""
        prior = {
            name: LegResult(ids, np.array([scores[c] for c in ids]))
            for name, (ids, scores) in (("dense", dense), ("bm25", bm25))
        }
        g = graph_leg.run(index, LegQuery(text, DEPTH, flt, None, index.encode), prior)
        return g.ids, g.score_of()

    pos = {c: i for i, c in enumerate(ids)}
    legs: dict[str, QueryLegs] = {}
    terms: dict[str, int] = {}
    for n, (qid, text) in enumerate(golden.queries.items()):
        dense = top(matrix @ queries[n])
        q_terms = index.tokenize(text)
        first_ids, first_scores = top(sparse_scores(*index.bm25.query_vector(q_terms)))
        first = ([c for c in first_ids if first_scores[c] > 0], first_scores)
        out: QueryLegs = {"dense": dense, "bm25": first}
        out["graph"] = walk(text, dense, first)
        for name, settings in PRF_VARIANTS.items():
            feedback = [(tokens[pos[c]], first_scores[c]) for c in first[0][: settings.fb_docs]]
            weights = expand(settings, q_terms, feedback)
            p_ids, p_scores = top(sparse_scores(*weighted_query_vector(index.bm25, weights)))
            prf = ([c for c in p_ids if p_scores[c] > 0], p_scores)
            out[name] = prf
            out[f"graph+{name}"] = walk(text, dense, prf)
        legs[qid] = out
        terms[qid] = len(q_terms)
        if (n + 1) % 100 == 0:
            print(f"  legs: {n + 1}/{len(golden.queries)}", flush=True)
    return legs, doc_of, terms


def index_encode_all(index, texts: list[str]) -> np.ndarray:
    """Query vectors in batches through the version's model (as the engine encodes one)."""
    return np.asarray(index.encode_many(texts))


def chunk_fusion(
    legs: QueryLegs, names: Mapping[str, str], weights: Mapping[str, float], k: int, doc_of
) -> list[str]:
    """Today's hybrid: chunk-level RRF, then documents by their best chunk."""
    fused = fuse_rankings({leg: legs[src][0] for leg, src in names.items()}, weights, k, DEPTH)
    docs: dict[str, None] = {}
    for item in fused:
        doc = doc_of.get(item.id)
        if doc is not None:
            docs.setdefault(doc)
    return list(docs)[:100]


def doc_fusion(
    legs: QueryLegs,
    names: Mapping[str, str],
    weights: Mapping[str, float],
    k: int,
    doc_of,
    agg: tuple[Aggregation, int],
) -> list[str]:
    """Per leg documents first (aggregated chunks), then RRF of the document rankings."""
    rankings = {leg: doc_ranking(legs[src], doc_of, agg) for leg, src in names.items()}
    return [f.id for f in fuse_rankings(rankings, weights, k, 100)]


_RANKINGS: dict[tuple[int, Aggregation, int], list[str]] = {}


def doc_ranking(leg: Leg, doc_of, agg: tuple[Aggregation, int]) -> list[str]:
    """A leg's top 100 documents under an aggregation (cached: legs are never mutated)."""
    key = (id(leg[0]), agg[0], agg[1])
    if key not in _RANKINGS:
        _RANKINGS[key] = document_ranking(*leg, doc_of, agg[0], agg[1])[:100]
    return _RANKINGS[key]


def score_fusion(
    legs: QueryLegs, names: Mapping[str, str], weights: Mapping[str, float], doc_of
) -> list[str]:
    """fusion.method minmax: CombSUM of min-max normalised best-chunk scores (top 100 docs)."""
    chosen = {leg: legs[src] for leg, src in names.items()}
    return list(minmax_documents(chosen, doc_of, weights))[:100]


def single(legs: QueryLegs, src: str, doc_of, agg: tuple[Aggregation, int]) -> list[str]:
    """One leg's documents under an aggregation."""
    return doc_ranking(legs[src], doc_of, agg)


def metrics(golden: GoldenSet, runs: dict[str, list[str]]) -> dict[str, float]:
    """ranx metrics of document rankings."""
    run = {q: {d: float(100 - i) for i, d in enumerate(docs)} for q, docs in runs.items()}
    return evaluate(golden.qrels, {q: run[q] for q in golden.queries})


def mean_ndcg(golden: GoldenSet, rank: Callable[[str], list[str]]) -> float:
    """Fast mean nDCG@10 over a set (for tuning loops)."""
    return float(np.mean([ndcg_at(rank(q), golden.qrels[q]) for q in golden.queries]))


def main() -> None:
    """Collect legs once, measure each lever on tuning and held-back, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "levers.json")
    parser.add_argument("--limit", type=int, help="first N judged queries only (a smoke test)")
    parser.add_argument(
        "--finetuned", default="finetuned", help="the fine-tuned model under <data_dir>/models"
    )
    parser.add_argument(
        "--only-finetuned", action="store_true", help="only lever 1 (e); keep --out's other rows"
    )
    args = parser.parse_args()

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.retrieval.open import open_version

    config = load_sources_file(args.state / "sources.yaml")
    ctx = PipelineContext(config)
    version = ctx.registry.live_manifest().version
    golden = load_beir(args.data / "queries.jsonl", args.data / "qrels" / "train.tsv", "scifact")
    if args.limit:
        golden = golden.subset(list(golden.queries)[: args.limit], golden.name)
    tune_set, held = golden.split(0.3, 13)
    cache = args.state / f"levers-legs-{version}-{len(golden.queries)}.pkl"
    timings: dict[str, float | str] = {}
    t = time.perf_counter()
    if cache.exists():
        legs, doc_of, terms = pickle.loads(cache.read_bytes())
        timings["collect_legs_s"] = "cached"
    else:
        store = open_vector_store(config.index.qdrant, ctx.workspace)
        index = open_version(ctx, version, store)
        legs, doc_of, terms = collect(ctx, index, golden)
        store.close()
        cache.write_bytes(pickle.dumps((legs, doc_of, terms)))
        timings["collect_legs_s"] = round(time.perf_counter() - t, 1)
    base_w = {"dense": 1.0, "bm25": 1.0, "graph": 0.5}
    hybrid = {"dense": "dense", "bm25": "bm25", "graph": "graph"}
    report: dict[str, object] = {"index_version": version, "tune_queries": len(tune_set.queries)}
    report["holdout_queries"] = len(held.queries)

    def both(rank: Callable[[str], list[str]]) -> dict[str, dict[str, float]]:
        return {
            "tune": metrics(tune_set, {q: rank(q) for q in tune_set.queries}),
            "holdout": metrics(held, {q: rank(q) for q in held.queries}),
        }

    def lever_one() -> dict[str, object] | None:
        """(e) lever 1: the fine-tuned embedder, and its cheap combinations."""
        t = time.perf_counter()

        def open_index():
            store = open_vector_store(config.index.qdrant, ctx.workspace)
            return open_version(ctx, version, store)

        found = finetuned_section(
            legs,
            open_index,
            ctx,
            golden,
            args.state,
            version,
            chunk_fusion,
            both,
            lambda rank: mean_ndcg(tune_set, rank),
            RRF_GRID,
            doc_of,
            args.finetuned,
        )
        print("finetuned", json.dumps(found, indent=1), flush=True)
        timings["finetuned_s"] = round(time.perf_counter() - t, 1)
        return found

    if args.only_finetuned:  # the other sections as an earlier run left them in --out
        report = json.loads(args.out.read_text()) if args.out.exists() else report
        report["finetuned_dense"] = lever_one()
        report.setdefault("timings", {}).update(timings)  # type: ignore[union-attr]
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        return

    # -- baseline: today's engine (chunk RRF, k 100 as tuned) --------------------------------
    t = time.perf_counter()
    rows: dict[str, object] = {}
    rows["baseline chunk-RRF k100"] = both(
        lambda q: chunk_fusion(legs[q], hybrid, base_w, 100, doc_of)
    )
    # -- (a) aggregation per mode and in fusion ----------------------------------------------
    for mode in ("dense", "bm25", "graph"):
        for name, agg in AGGREGATIONS.items():
            rows[f"{mode} agg={name}"] = both(
                lambda q, m=mode, a=agg: single(legs[q], m, doc_of, a)
            )
    for name, agg in AGGREGATIONS.items():
        for k in (60, 100):
            rows[f"hybrid doc-RRF agg={name} k{k}"] = both(
                lambda q, a=agg, kk=k: doc_fusion(legs[q], hybrid, base_w, kk, doc_of, a)
            )
    best_score_w, best_score_v = base_w, -1.0
    for d, b, g in itertools.product((0.5, 1.0, 1.5), (0.5, 1.0, 1.5), (0.0, 0.25, 0.5)):
        w = {"dense": d, "bm25": b, "graph": g}
        value = mean_ndcg(tune_set, lambda q, ww=w: score_fusion(legs[q], hybrid, ww, doc_of))
        if value > best_score_v + 1e-9:
            best_score_w, best_score_v = w, value
    rows["hybrid score-fusion (CombSUM min-max), weights tuned"] = {
        "weights": best_score_w,
        **both(lambda q: score_fusion(legs[q], hybrid, best_score_w, doc_of)),
    }
    timings["aggregation_s"] = round(time.perf_counter() - t, 1)
    report["aggregation"] = rows
    print(json.dumps(rows, indent=1), flush=True)

    # choose the aggregation + k + weights on tuning (fast nDCG), report held-back
    t = time.perf_counter()
    grid = RRF_GRID
    best: tuple[float, str, int, dict[str, float]] | None = None
    for name, agg in (("chunk", None), *AGGREGATIONS.items()):
        for k, w in grid:

            def rank(q: str, a=agg, kk=k, ww=w) -> list[str]:
                if a is None:
                    return chunk_fusion(legs[q], hybrid, ww, kk, doc_of)
                return doc_fusion(legs[q], hybrid, ww, kk, doc_of, a)

            value = mean_ndcg(tune_set, rank)
            if best is None or value > best[0] + 1e-9:
                best = (value, name, k, w)
    assert best is not None
    _, agg_name, best_k, best_w = best
    chosen_agg = AGGREGATIONS.get(agg_name)

    def fused(q: str, names=hybrid, w=best_w, k=best_k, a=chosen_agg) -> list[str]:
        if a is None:
            return chunk_fusion(legs[q], names, w, k, doc_of)
        return doc_fusion(legs[q], names, w, k, doc_of, a)

    report["tuned_fusion"] = {
        "aggregation": agg_name,
        "k": best_k,
        "weights": best_w,
        **both(fused),
        "seconds": round(time.perf_counter() - t, 1),
    }
    print("tuned", report["tuned_fusion"], flush=True)

    # -- (b) RM3 ------------------------------------------------------------------------------
    t = time.perf_counter()
    prf_rows: dict[str, object] = {"bm25": rows["bm25 agg=max"]}
    best_prf = ("none", mean_ndcg(tune_set, lambda q: fused(q)))
    for name in PRF_VARIANTS:
        prf_rows[f"bm25 {name}"] = both(lambda q, n=name: single(legs[q], n, doc_of, ("max", 1)))
        names = {"dense": "dense", "bm25": name, "graph": f"graph+{name}"}
        prf_rows[f"hybrid {name}"] = both(lambda q, nm=names: fused(q, nm))
        value = mean_ndcg(tune_set, lambda q, nm=names: fused(q, nm))
        if value > best_prf[1] + 1e-9:
            best_prf = (name, value)
    prf_rows["chosen_on_tuning"] = best_prf[0]
    timings["rm3_eval_s"] = round(time.perf_counter() - t, 1)
    report["rm3"] = prf_rows
    print(json.dumps(prf_rows, indent=1), flush=True)
    if best_prf[0] != "none":
        hybrid = {"dense": "dense", "bm25": best_prf[0], "graph": f"graph+{best_prf[0]}"}

    # -- (c) learned per-query fusion weight --------------------------------------------------
    t = time.perf_counter()

    def features(q: str) -> list[float]:
        return leg_features(legs[q]["dense"], legs[q][hybrid["bm25"]], doc_of, terms[q])

    def table(qids: list[str]) -> np.ndarray:
        budget = best_w["dense"] + best_w["bm25"]
        rows_ = []
        for q in qids:
            rows_.append(
                [
                    ndcg_at(
                        fused(q, hybrid, {**best_w, "dense": budget * a, "bm25": budget * (1 - a)}),
                        golden.qrels[q],
                    )
                    for a in ALPHA_GRID
                ]
            )
        return np.array(rows_)

    tune_ids = list(tune_set.queries)
    x_tune = np.array([features(q) for q in tune_ids])
    t_tune = table(tune_ids)
    budget = best_w["dense"] + best_w["bm25"]
    folds = [tune_ids[i::5] for i in range(5)]
    cv: list[float] = []
    for fold in folds:
        train = [i for i, q in enumerate(tune_ids) if q not in set(fold)]
        test = [i for i, q in enumerate(tune_ids) if q in set(fold)]
        model = fit_query_weights(x_tune[train], t_tune[train], budget=budget)
        for i in test:
            a = model.alpha(x_tune[i])
            cv.append(float(t_tune[i, round(a * 10)]))
    model = fit_query_weights(x_tune, t_tune, budget=budget)

    def learned(q: str) -> list[str]:
        return fused(q, hybrid, model.weights(features(q), best_w))

    constant = float(t_tune.mean(axis=0).max())
    report["learned_weights"] = {
        "features": list(FEATURES),
        "theta": [round(v, 4) for v in model.theta],
        "tune_ndcg@10_constant_best": round(constant, 4),
        "tune_ndcg@10_5fold_cv": round(float(np.mean(cv)), 4),
        "fused_without": both(lambda q: fused(q, hybrid)),
        "fused_with": both(learned),
        "model": json.loads(model.to_json()),
    }
    timings["learned_weights_s"] = round(time.perf_counter() - t, 1)
    print("learned", report["learned_weights"], flush=True)

    finetuned = lever_one()
    if finetuned is not None:
        report["finetuned_dense"] = finetuned
    report["timings"] = timings
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
