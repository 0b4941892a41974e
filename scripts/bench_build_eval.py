"""Build throughput per embedding backend, and the fast evaluation of the SciFact dev queries.

Usage: python scripts/bench_build_eval.py [--backend onnx] [--docs N] [--out FILE]
       (RAG_ONNX_FUSE=0: the plain fp32 export instead of the fused one)

Builds SciFact (or its first --docs documents) with the pipeline's own stages into a fresh data
dir (no embedding cache carried over, so every chunk is embedded), reports chunks/s of the
embedding stage, then evaluates the version on the judged dev queries in every mode the way
`rag-pipelines eval` and the retrieval_quality check do (queries encoded in batches, each leg
once per query), timing it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    """Build, time the stages, evaluate, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--state", type=Path, default=REPO / ".rag-bench" / "build-eval")
    parser.add_argument("--backend", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--docs", type=int, default=0, help="first N documents (0: all)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {args.data}")

    import yaml

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.embedding.model import SentenceTransformerModel
    from rag_pipelines.evaluation.golden import load_beir
    from rag_pipelines.evaluation.quality import evaluate_version
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.pipeline.build.candidate import complete_candidate
    from rag_pipelines.pipeline.build.chunks import chunk
    from rag_pipelines.pipeline.build.documents import ingest
    from rag_pipelines.pipeline.build.embeddings import embed
    from rag_pipelines.pipeline.build.indexes import (
        build_bm25_index,
        build_graph_index,
        build_vector_index,
    )
    from rag_pipelines.pipeline.build.snapshot import snapshot_corpus
    from rag_pipelines.retrieval.open import open_version

    root = args.state / args.backend
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    connector: dict[str, object] = {"type": "beir", "path": str(args.data)}
    if args.docs:
        with (args.data / "corpus.jsonl").open(encoding="utf-8") as handle:
            connector["ids"] = [
                json.loads(line)["_id"] for line, _ in zip(handle, range(args.docs), strict=False)
            ]
    (root / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "buildeval", "data_dir": str(root / "data")},
                "embedding": {"device": "cpu", "backend": args.backend},
                "sources": [{"name": "scifact", "connector": connector}],
            }
        )
    )
    ctx = PipelineContext(load_sources_file(root / "sources.yaml"))
    figures: dict[str, object] = {"backend": args.backend}
    t = time.perf_counter()
    model = SentenceTransformerModel(ctx.config.embedding, onnx_dir=ctx.workspace.onnx_dir)
    figures["model_load_s"] = round(time.perf_counter() - t, 1)
    figures["onnx_file"] = model.onnx.path.name if model.onnx is not None else None
    figures["load_average_at_start"] = os.getloadavg()[0]
    ingest(ctx, "scifact")
    chunks = chunk(ctx, "scifact", model.tokenizer).chunks
    t = time.perf_counter()
    report = embed(ctx, "scifact", model)
    seconds = time.perf_counter() - t
    figures.update(chunks=chunks, embed_s=round(seconds, 1))
    figures["chunks_per_s"] = round(report.embedded / seconds, 1)
    print(json.dumps(figures), flush=True)
    version = snapshot_corpus(ctx).snapshot.version
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    build_vector_index(ctx, version, store)
    build_bm25_index(ctx, version, store)
    build_graph_index(ctx, version)
    complete_candidate(ctx, version, store.kind)
    index = open_version(ctx, version, store)
    golden = load_beir(args.data / "queries.jsonl", args.data / "qrels" / "train.tsv", "dev")
    if args.docs:
        kept = set(connector["ids"])  # type: ignore[arg-type]
        golden = golden.subset([q for q, d in golden.qrels.items() if set(d) & kept], "dev")
    modes = ["dense", "bm25", "graph", "hybrid"]
    t = time.perf_counter()
    scores = evaluate_version(
        index, ctx.registry.build_path(version), {"dev": (golden, None)}, modes
    )
    figures.update(
        eval_queries=len(golden.queries),
        eval_s=round(time.perf_counter() - t, 1),
        ndcg10={m: scores["dev"][m]["ndcg@10"] for m in modes},
    )
    index.close()
    store.close()
    figures["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))
    out = args.out or REPO / "bench-results" / f"build-eval-{args.backend}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
