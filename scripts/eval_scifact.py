"""Retrieval quality on SciFact (BEIR dev split, 809 judged queries) through the real pipeline.

Usage: python scripts/eval_scifact.py [--data DIR] [--state DIR] [--out FILE] [--no-rerank]
                                      [--no-finetune]

Builds the full corpus (5,183 abstracts) through Dagster — parse, chunk, embed (MiniLM),
Qdrant Edge dense + BM25, graph, and the reranker asset, which trains a cross-encoder on the
"tune" part of the judged queries (hard negatives from BM25 and dense) — then reports
document-level nDCG@10, Recall@100, Recall@10 and MRR@10 per mode. The reranker never sees the
held-back queries; rows with reranking are therefore reported on the held-back part only.
Then the `embedding_finetune` step fine-tunes MiniLM on the same tuning part (in-batch negatives)
and scores base vs fine-tuned dense retrieval (exact search) on the held-back part.
State (embedding cache, trained reranker) persists in --state, so a rerun is fast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODES = ("dense", "bm25", "graph", "hybrid")


def main() -> None:
    """Build, evaluate, print a Markdown table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "eval.json")
    parser.add_argument("--no-rerank", action="store_true", help="skip training the reranker")
    parser.add_argument("--no-finetune", action="store_true", help="skip fine-tuning MiniLM")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {args.data}; `make eval` needs ../shared/data/scifact")

    import dagster as dg
    import yaml

    from assets.runs import materialize_pipeline
    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.evaluation.golden import load_beir
    from rag_pipelines.evaluation.metrics import evaluate
    from rag_pipelines.evaluation.runs import run_golden
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.retrieval.open import open_version

    args.state.mkdir(parents=True, exist_ok=True)
    retrieval: dict[str, object] = {}
    if not args.no_rerank:
        retrieval = {
            "rerank": {
                "train": {
                    "queries": str(args.data / "queries.jsonl"),
                    "qrels": str(args.data / "qrels" / "train.tsv"),
                    "source": "scifact",
                    "holdout_fraction": 0.3,
                    # one pass keeps training near 10 minutes on 2 CPU cores
                    "epochs": 1,
                    "negatives_per_query": 6,
                    "max_length": 192,
                }
            }
        }
    config_path = args.state / "sources.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "scifact", "data_dir": str(args.state / "data")},
                "sources": [
                    {"name": "scifact", "connector": {"type": "beir", "path": str(args.data)}}
                ],
                "retrieval": retrieval,
                "evaluation": {
                    "sets": [
                        {
                            "name": "scifact_dev",
                            "queries": str(args.data / "queries.jsonl"),
                            "qrels": str(args.data / "qrels" / "train.tsv"),
                            "source": "scifact",
                            "holdout_fraction": 0.3,
                        }
                    ],
                    "tune_fusion": True,
                },
            }
        )
    )
    config = load_sources_file(config_path)
    ctx = PipelineContext(config)
    started = time.perf_counter()
    materialize_pipeline(config, dg.DagsterInstance.ephemeral())
    build_seconds = time.perf_counter() - started
    version = ctx.registry.live_manifest().version

    golden = load_beir(
        args.data / "queries.jsonl", args.data / "qrels" / "train.tsv", "scifact-dev"
    )
    _, holdout = golden.split(0.3, 13)
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    index = open_version(ctx, version, store)
    rows: list[dict[str, object]] = []
    tuned = index.fusion
    for mode in MODES:
        if mode == "hybrid":  # the configured default first, then the tuned setting
            index.fusion = config.retrieval.fusion
            default_run = run_golden(index, golden, mode, False, 100, ("scifact",))
            rows.append(
                {
                    "mode": "hybrid (default fusion)",
                    "rerank": False,
                    "all_809": evaluate(golden.qrels, default_run),
                    "holdout": evaluate(
                        holdout.qrels, {q: default_run[q] for q in holdout.queries}
                    ),
                    "ms_per_query": None,
                }
            )
            index.fusion = tuned
        t = time.perf_counter()
        run = run_golden(index, golden, mode, False, 100, ("scifact",))
        seconds = time.perf_counter() - t
        holdout_run = {q: run[q] for q in holdout.queries}
        rows.append(
            {
                "mode": mode,
                "rerank": False,
                "all_809": evaluate(golden.qrels, run),
                "holdout": evaluate(holdout.qrels, holdout_run),
                "ms_per_query": round(1000 * seconds / len(golden.queries), 1),
            }
        )
        print(mode, rows[-1], flush=True)
    if index.reranker is not None:
        blended = index.rerank_settings
        pure = blended.model_copy(update={"blend": 1.0})
        for mode, settings in (("dense", blended), ("hybrid", blended), ("hybrid", pure)):
            index.rerank_settings = settings
            t = time.perf_counter()
            run = run_golden(index, holdout, mode, True, 100, ("scifact",))
            seconds = time.perf_counter() - t
            rows.append(
                {
                    "mode": f"{mode} (blend {settings.blend})",
                    "rerank": True,
                    "holdout": evaluate(holdout.qrels, run),
                    "ms_per_query": round(1000 * seconds / len(holdout.queries), 1),
                }
            )
            print(mode, "+rerank", rows[-1], flush=True)
        index.rerank_settings = blended
    store.close()
    finetune = None
    if not args.no_finetune:
        from eval_finetune import finetune_rows

        finetune = finetune_rows(config, args.data, rows)

    from rag_pipelines.index.records import load_fusion_record, load_reranker_record

    record = load_reranker_record(ctx.registry.build_path(version))
    fusion = load_fusion_record(ctx.registry.build_path(version))
    manifest = ctx.registry.manifest(version)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "index_version": version,
        "documents": manifest.documents,
        "chunks": manifest.chunks,
        "model": manifest.model.key,
        "queries": len(golden.queries),
        "holdout_queries": len(holdout.queries),
        "pipeline_seconds": round(build_seconds, 1),
        "reranker": record.model_dump() if record else None,
        "fusion_tuning": fusion.model_dump() if fusion else None,
        "finetune": finetune,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(render(result))


def render(result: dict[str, object]) -> str:
    """The README table."""
    lines = [
        f"SciFact dev: {result['documents']} docs / {result['chunks']} chunks, "
        f"{result['queries']} queries ({result['holdout_queries']} held back), {result['model']}",
        "",
        "| mode | nDCG@10 (809) | Recall@100 (809) | nDCG@10 (held-back) | Recall@100 (held-back) "
        "| ms/query |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["rows"]:  # type: ignore[attr-defined]
        every = row.get("all_809") or {}
        held = row["holdout"]
        name = row["mode"] + (" + rerank" if row["rerank"] else "")
        lines.append(
            f"| {name} | {every.get('ndcg@10', '—')} | {every.get('recall@100', '—')} | "
            f"{held['ndcg@10']} | {held['recall@100']} | {row['ms_per_query'] or '—'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
