"""BM25 in generation collections: which statistics to freeze, measured by nDCG@10 on SciFact.

Usage: python scripts/eval_bm25_idf.py [--data DIR] [--out FILE] [--seed N]

A generation's points outlive versions, so BM25 cannot bake each version's statistics into them.
Variants, all with the pipeline's tokenizer and k1/b/epsilon over SciFact's 5,183 abstracts
(title + text, one document each) and its 809 judged queries:
- exact: this version's statistics (copy-per-version; rank_bm25's scores);
- qdrant_idf: tf-part points with the exact avgdl and Qdrant's `Modifier.IDF` (idf computed by
  Qdrant at query time, its formula ln(1 + (N - n + 0.5)/(n + 0.5))), in qdrant-client local mode;
- frozen_stats@f: idf, vocabulary and avgdl frozen when the generation began, with a random
  fraction f of today's documents (terms new since then score nothing);
- frozen_avgdl@f (the one built): idf exactly this version's (in the query weights), only avgdl
  frozen at the fraction f; frozen_avgdl±x: avgdl moved by x since the generation began;
- qdrant_idf+expired20%: a generation collection also holding older points (20 % of documents
  again, filtered out of results), Qdrant's idf counted over all of them, or `scoped` to the
  filtered points (`SearchParams(idf=IdfCorpusParams(corpus=...))`).
Writes nDCG@10 and Recall@100 per variant, and each f's avgdl drift, as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rag_pipelines.beir import CorpusRecord, read_corpus, read_qrels, read_queries
from rag_pipelines.config.models import Bm25Settings
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer

REPO = Path(__file__).resolve().parents[1]
FRACTIONS = (0.5, 0.8, 0.9, 0.95, 0.99)
AVGDL_CHANGES = (-0.2, -0.1, -0.05, 0.05, 0.1, 0.2)
DEPTH = 100
METRICS = ("ndcg@10", "recall@100")


def tf_matrix(
    docs: list[list[str]], vocab: dict[str, int], k1: float, b: float, avgdl: float
) -> Any:
    """Documents × terms: the tf-part tf·(k1+1)/(tf + k1·(1 − b + b·|d|/avgdl))."""
    rows, cols, vals = [], [], []
    for row, terms in enumerate(docs):
        norm = k1 * (1 - b + b * len(terms) / avgdl) if avgdl else k1
        for term, tf in Counter(t for t in terms if t in vocab).items():
            rows.append(row)
            cols.append(vocab[term])
            vals.append(tf * (k1 + 1) / (tf + norm))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab)))


def run_matrix(
    matrix: Any,
    idf: np.ndarray,
    vocab: dict[str, int],
    queries: dict[str, list[str]],
    ids: list[str],
) -> dict[str, dict[str, float]]:
    """Top DEPTH documents per query: Σ count(t)·idf(t)·tf-part(t, d)."""
    run: dict[str, dict[str, float]] = {}
    for qid, terms in queries.items():
        counts = Counter(vocab[t] for t in terms if t in vocab)
        q = np.zeros(len(vocab))
        for term_id, count in counts.items():
            q[term_id] = count * idf[term_id]
        scores = matrix @ q
        top = np.argsort(-scores, kind="stable")[:DEPTH]
        run[qid] = {ids[i]: float(scores[i]) for i in top if scores[i] > 0}
    return run


def qdrant_idf_run(
    docs: list[list[str]],
    model: Bm25Model,
    queries: dict[str, list[str]],
    ids: list[str],
    expired: list[list[str]] | None = None,
    scoped: bool = False,
) -> dict[str, dict[str, float]]:
    """Qdrant's IDF modifier in qdrant-client local mode: tf-part points, count queries.

    `expired`: more points in the collection that the query filters out (what a generation
    collection holds for older versions); `scoped`: idf counted over the filtered points only
    (`SearchParams(idf=IdfCorpusParams(corpus=...))`), else over the whole collection.
    """
    from qdrant_client import QdrantClient, models

    client = QdrantClient(location=":memory:")
    client.create_collection(
        "bm25",
        vectors_config={},
        sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)},
    )
    everything = docs + (expired or [])
    matrix = tf_matrix(everything, model.vocab, model.k1, model.b, model.avgdl)
    points = []
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        vector = models.SparseVector(
            indices=matrix.indices[start:end].tolist(), values=matrix.data[start:end].tolist()
        )
        live = {"live": row < len(docs)}
        points.append(models.PointStruct(id=row, vector={"bm25": vector}, payload=live))
    for i in range(0, len(points), 512):
        client.upsert("bm25", points[i : i + 512])
    flt = models.Filter(
        must=[models.FieldCondition(key="live", match=models.MatchValue(value=True))]
    )
    params = models.SearchParams(idf=models.IdfCorpusParams(corpus=flt)) if scoped else None
    run: dict[str, dict[str, float]] = {}
    for qid, terms in queries.items():
        counts = Counter(model.vocab[t] for t in terms if t in model.vocab)
        if not counts:
            run[qid] = {}
            continue
        query = models.SparseVector(
            indices=list(counts), values=[float(c) for c in counts.values()]
        )
        hits = client.query_points(
            "bm25", query=query, using="bm25", limit=DEPTH, query_filter=flt, search_params=params
        ).points
        run[qid] = {ids[int(h.id)]: float(h.score) for h in hits}
    client.close()
    return run


def main() -> None:
    """Score every variant, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "bm25-idf.json")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    started = time.perf_counter()
    settings = Bm25Settings()
    tokenize = Bm25Tokenizer(settings)
    records = [r for r in read_corpus(args.data / "corpus.jsonl") if isinstance(r, CorpusRecord)]
    ids = [r.id for r in records]
    docs = [tokenize(f"{r.title}\n{r.text}") for r in records]
    qrels = read_qrels(args.data / "qrels" / "train.tsv")
    queries = {q: tokenize(t) for q, t in read_queries(args.data / "queries.jsonl").items()}
    queries = {q: t for q, t in queries.items() if q in qrels}
    k1, b, eps = settings.k1, settings.b, settings.epsilon
    exact = Bm25Model.fit(docs, k1, b, eps)
    exact_idf = np.array(exact.idf)

    def score(run: dict[str, dict[str, float]]) -> dict[str, float]:
        return evaluate(qrels, run, METRICS)

    results: dict[str, Any] = {
        "exact": score(
            run_matrix(
                tf_matrix(docs, exact.vocab, k1, b, exact.avgdl),
                exact_idf,
                exact.vocab,
                queries,
                ids,
            )
        ),
        "qdrant_idf": score(qdrant_idf_run(docs, exact, queries, ids)),
    }
    drift: dict[str, float] = {}
    rng = random.Random(args.seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    # A generation collection also holds older versions' points: 20 % of documents twice.
    expired = [docs[i] for i in order[: len(docs) // 5]]
    results["qdrant_idf+expired20%"] = score(qdrant_idf_run(docs, exact, queries, ids, expired))
    results["qdrant_idf+expired20%,scoped"] = score(
        qdrant_idf_run(docs, exact, queries, ids, expired, scoped=True)
    )
    for change in AVGDL_CHANGES:  # avgdl moved by this fraction since the generation began
        results[f"frozen_avgdl{change:+.0%}"] = score(
            run_matrix(
                tf_matrix(docs, exact.vocab, k1, b, exact.avgdl / (1 + change)),
                exact_idf,
                exact.vocab,
                queries,
                ids,
            )
        )
    for fraction in FRACTIONS:
        start = [docs[i] for i in order[: int(fraction * len(docs))]]
        frozen = Bm25Model.fit(start, k1, b, eps)
        drift[str(fraction)] = round(exact.avgdl / frozen.avgdl - 1, 4)
        results[f"frozen_stats@{fraction}"] = score(
            run_matrix(
                tf_matrix(docs, frozen.vocab, k1, b, frozen.avgdl),
                np.array(frozen.idf),
                frozen.vocab,
                queries,
                ids,
            )
        )
        results[f"frozen_avgdl@{fraction}"] = score(
            run_matrix(
                tf_matrix(docs, exact.vocab, k1, b, frozen.avgdl),
                exact_idf,
                exact.vocab,
                queries,
                ids,
            )
        )
    base = results["exact"]["ndcg@10"]
    report = {
        "dataset": "BEIR SciFact (dev split)",
        "documents": len(docs),
        "queries": len(queries),
        "bm25": {"k1": k1, "b": b, "epsilon": eps},
        "avgdl": round(exact.avgdl, 3),
        "avgdl_drift_at_fraction": drift,
        "results": results,
        "ndcg10_minus_exact": {name: round(r["ndcg@10"] - base, 4) for name, r in results.items()},
        "seed": args.seed,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {platform.system()}, python {platform.python_version()}",
        "command": "python scripts/eval_bm25_idf.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("| variant | nDCG@10 | Δ vs exact | Recall@100 |")
    print("|---|---|---|---|")
    for name, r in results.items():
        delta = r["ndcg@10"] - base
        print(f"| {name} | {r['ndcg@10']:.4f} | {delta:+.4f} | {r['recall@100']:.4f} |")
    print(f"avgdl drift by fraction: {drift}; wrote {args.out}")


if __name__ == "__main__":
    main()
