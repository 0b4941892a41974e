"""Late-interaction reranking on SciFact, as pre-registered (row f of the retrieval-levers record).

Usage: python scripts/eval_late_interaction.py [--state DIR] [--model-name NAME] [--out FILE]

Fixed before any result: open the served recipe's version (the newest whose embedding model is
`finetuned_pq`; else the LIVE one); for each of the 809 judged queries take its hybrid ranking
as served (engine.search, rerank off, 300 chunks as `run_golden` asks for 100 documents) and
rerank the top 30 chunks with the LateInteractionReranker over the version's own dense model;
blend with the first-stage order by `blend_orders` at each of BLENDS, the rest of the ranking
kept behind, as the engine does. The blend is chosen on the tuning queries (the golden set's
own split); held-back scores are reported, never used. Token vectors are computed once per
chunk (a cache by passage text, float16); a check reranks the first queries through the engine
itself and compares the orders.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
BLENDS = (0.25, 0.5, 0.75, 1.0)
TOP_N = 30
DOCS = 100  # documents per query, as run_golden
ENGINE_CHECK = 20  # queries reranked through engine.search as well


def log(message: str) -> None:
    """A timestamped progress line."""
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def main() -> None:
    """Measure the late-interaction reranker on the served version; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--model-name", default="finetuned_pq", help="the served recipe's model")
    parser.add_argument("--max-queries", type=int, help="a smoke run on the first N queries only")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench-results" / "late_interaction.json"
    )
    args = parser.parse_args()
    if not (args.state / "sources.yaml").exists():
        sys.exit(f"run `make eval` first: it leaves {args.state}/sources.yaml")

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.embedding.resolve import resolve_model
    from rag_pipelines.evaluation.golden import load_beir
    from rag_pipelines.evaluation.metrics import evaluate
    from rag_pipelines.evaluation.runs import document_run
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.index.vector_store import PayloadFilter
    from rag_pipelines.retrieval.open import local_model, open_version
    from rag_pipelines.retrieval.rerank import blend_orders
    from rag_pipelines.retrieval.rerankers.late_interaction import LateInteractionReranker

    started = time.perf_counter()
    config = load_sources_file(args.state / "sources.yaml")
    ctx = PipelineContext(config)
    served = [
        v for v in ctx.registry.versions() if ctx.registry.manifest(v).model.name == args.model_name
    ]
    live = ctx.registry.live()
    version = served[-1] if served else (live.version if live else None)
    assert version is not None, "no version to measure"
    chosen_because = f"newest version served with {args.model_name}" if served else "LIVE"
    manifest = ctx.registry.manifest(version)
    model_path = str(resolve_model(local_model(ctx, manifest.model_ref)).path)
    log(f"version {version} ({chosen_because}); dense model {model_path}")

    eval_set = config.evaluation.sets[0]
    golden = load_beir(eval_set.queries, eval_set.qrels, "scifact")
    tune, held = golden.split(eval_set.holdout_fraction, eval_set.seed)
    if args.max_queries:  # smoke only: the split stays the golden set's own
        golden = golden.subset(list(golden.queries)[: args.max_queries], golden.name)
        tune = tune.subset([q for q in tune.queries if q in golden.queries], tune.name)
        held = held.subset([q for q in held.queries if q in golden.queries], held.name)
    flt = PayloadFilter(sources=(eval_set.source,)) if eval_set.source else None
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    index = open_version(ctx, version, store)
    log(f"{len(golden.queries)} queries: {len(tune.queries)} tuning, {len(held.queries)} held")

    t = time.perf_counter()
    first: dict[str, Any] = {}
    passages: dict[str, list[str]] = {}
    for i, (qid, text) in enumerate(golden.queries.items(), start=1):
        response = index.search(text, DOCS * 3, "hybrid", False, flt)
        head = [h.chunk_id for h in response.hits[:TOP_N]]
        payloads = index.store.retrieve(manifest.collection, head)
        passages[qid] = [  # what the engine shows its reranker
            str(payloads[c].get("embed_text") or payloads[c].get("text", "")) for c in head
        ]
        first[qid] = response
        if i % 200 == 0:
            log(f"first stage {i}/{len(golden.queries)}")
    first_seconds = time.perf_counter() - t
    log(f"first stage: {first_seconds:.0f} s")

    reranker = LateInteractionReranker(model_path, batch_size=32, cache={})
    unique = sorted({p for ps in passages.values() for p in ps}, key=len)
    t = time.perf_counter()
    cache = reranker.cache
    assert cache is not None
    for start in range(0, len(unique), 64):
        batch = unique[start : start + 64]
        for text, matrix in zip(batch, reranker.encode(batch), strict=True):
            cache[text] = matrix.astype("float16")
        if (start // 64) % 20 == 0:
            log(f"token vectors {start + len(batch)}/{len(unique)}")
    encode_seconds = time.perf_counter() - t
    tokens = sum(len(m) for m in cache.values())
    log(f"token vectors of {len(unique)} chunks ({tokens} tokens): {encode_seconds:.0f} s")

    t = time.perf_counter()
    orders = {
        qid: reranker.rerank(golden.queries[qid], ps, budget_ms=10**9).order
        for qid, ps in passages.items()
    }
    rerank_seconds = time.perf_counter() - t
    log(f"reranked {len(orders)} queries: {rerank_seconds:.0f} s")

    def run_for(blend: float | None) -> dict[str, dict[str, float]]:
        run: dict[str, dict[str, float]] = {}
        for qid, response in first.items():
            hits = response.hits
            if blend is not None:
                hits = blend_orders(hits[:TOP_N], orders[qid], blend) + hits[TOP_N:]
            ranked = document_run(response.model_copy(update={"hits": hits}), DOCS * 3)
            run[qid] = dict(list(ranked.items())[:DOCS])
        return run

    rows: dict[str, dict[str, dict[str, float]]] = {}
    for label, blend in [("first stage", None), *((f"blend {b}", b) for b in BLENDS)]:
        run = run_for(blend)
        rows[label] = {
            "tuning": evaluate(tune.qrels, {q: run[q] for q in tune.queries}),
            "holdout": evaluate(held.qrels, {q: run[q] for q in held.queries}),
        }
        log(f"{label}: {json.dumps(rows[label])}")
    # chosen on tuning nDCG@10 only; ties go to the smaller blend (closer to the first stage)
    chosen = max(BLENDS, key=lambda b: (rows[f"blend {b}"]["tuning"]["ndcg@10"], -b))
    helps = rows[f"blend {chosen}"]["tuning"]["ndcg@10"] > rows["first stage"]["tuning"]["ndcg@10"]

    # the same rerank through the engine's own path, for the first queries
    index.reranker = reranker
    index.rerank_settings = index.rerank_settings.model_copy(
        update={"top_n": TOP_N, "blend": chosen, "budget_ms": 10**9}
    )
    run = run_for(chosen)
    agree = 0
    checked = list(golden.queries.items())[:ENGINE_CHECK]
    for qid, text in checked:
        response = index.search(text, DOCS * 3, "hybrid", True, flt)
        mine = dict(list(document_run(response, DOCS * 3).items())[:DOCS])
        agree += list(mine) == list(run[qid])
    log(f"engine path agrees on {agree}/{len(checked)} queries")
    index.close()
    store.close()

    result = {
        "version": version,
        "version_chosen": chosen_because,
        "dense_model": model_path,
        "fusion": index.fusion.model_dump(),
        "top_n": TOP_N,
        "blends": list(BLENDS),
        "queries": {"tuning": len(tune.queries), "holdout": len(held.queries)},
        "scores": rows,
        "chosen_blend_on_tuning": chosen,
        "chosen": rows[f"blend {chosen}"],
        "beats_first_stage_on_tuning": helps,
        "engine_path_agreement": f"{agree}/{len(checked)}",
        "chunks_encoded": len(unique),
        "tokens_encoded": tokens,
        "seconds": {
            "first_stage": round(first_seconds, 1),
            "token_vectors": round(encode_seconds, 1),
            "rerank_809_queries": round(rerank_seconds, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "cpu": f"{os.cpu_count()} cores, shared, nice 10",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(json.dumps({k: result[k] for k in ("chosen_blend_on_tuning", "chosen", "seconds")}))


if __name__ == "__main__":
    main()
