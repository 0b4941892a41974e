"""Retrieval with and without short-chunk merging (min_chunk_tokens): SciFact, mixed-docs.

Usage: python scripts/eval_short_chunks.py [--data DIR] [--state DIR] [--docs N] [--out FILE]

For each corpus, builds one data dir with the pipeline's own stages twice: first with
`min_chunk_tokens: 0` (every chunk kept, as before), then with the default threshold. The
second build re-chunks every document but re-embeds only the chunks whose text changed (the
embedding cache is keyed by model and text), which the `embedded` figure shows. Each version
is evaluated the way `rag-pipelines eval` does (document-level nDCG@10, Recall@10, MRR@10 per
mode). SciFact uses its judged dev queries; mixed-docs has no judgements, so each document's
title is a known-item query for that document.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
MODES = ["dense", "bm25", "hybrid"]


def main() -> None:
    """Build both variants per corpus, evaluate, print and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--state", type=Path, default=REPO / ".rag-bench" / "short-chunks")
    parser.add_argument("--docs", type=int, default=0, help="first N SciFact documents (0: all)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "short-chunks.json")
    args = parser.parse_args()
    scifact, mixed = args.data / "scifact", args.data / "mixed-docs"
    if not (scifact / "corpus.jsonl").exists() or not mixed.is_dir():
        sys.exit(f"needs {scifact} and {mixed}")
    from rag_pipelines.evaluation.golden import GoldenSet, load_beir

    record: dict[str, object] = {
        "commit": _git("rev-parse", "--short", "HEAD"),
        "machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.platform()}",
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }
    connector: dict[str, object] = {"type": "beir", "path": str(scifact)}
    golden = load_beir(scifact / "queries.jsonl", scifact / "qrels" / "train.tsv", "dev")
    if args.docs:
        with (scifact / "corpus.jsonl").open(encoding="utf-8") as handle:
            ids = [
                json.loads(line)["_id"] for line, _ in zip(handle, range(args.docs), strict=False)
            ]
        connector["ids"] = ids
        golden = golden.subset([q for q, d in golden.qrels.items() if set(d) & set(ids)], "dev")
    record["scifact"] = _compare(args.state / "scifact", "scifact", connector, lambda _: golden)
    mixed_connector = {
        "type": "filesystem",
        "root": str(mixed),
        "include": ["**/*"],
        "exclude": ["*.tsv", "README.md", "UNSTRUCTURED-REPO-LICENSE.md"],
    }

    def known_items(documents: list[tuple[str, str]]) -> GoldenSet:
        queries = {f"q{i}": title for i, (_, title) in enumerate(documents)}
        qrels = {f"q{i}": {doc_id: 1} for i, (doc_id, _) in enumerate(documents)}
        return GoldenSet("titles", queries, qrels)

    record["mixed_docs"] = _compare(args.state / "mixed", "mixed", mixed_connector, known_items)
    record["load_average_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(record, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")


def _compare(root: Path, source: str, connector: dict[str, object], golden_for: object) -> dict:
    """Both variants built into one data dir (shared embedding cache), scored."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    out: dict[str, object] = {}
    for threshold in (0, None):
        label = "min_chunk_tokens=0" if threshold == 0 else "default"
        out[label] = _build_and_score(root, source, connector, threshold, golden_for)
        print(json.dumps({source: {label: out[label]}}), flush=True)
    return out


def _build_and_score(
    root: Path, source: str, connector: dict[str, object], threshold: int | None, golden_for: object
) -> dict[str, object]:
    import yaml

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.embedding.model import SentenceTransformerModel
    from rag_pipelines.evaluation.quality import evaluate_version
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.pipeline.build.candidate import complete_candidate
    from rag_pipelines.pipeline.build.chunks import chunk, load_chunks
    from rag_pipelines.pipeline.build.documents import ingest, load_documents
    from rag_pipelines.pipeline.build.embeddings import embed
    from rag_pipelines.pipeline.build.indexes import (
        build_bm25_index,
        build_graph_index,
        build_vector_index,
    )
    from rag_pipelines.pipeline.build.snapshot import snapshot_corpus
    from rag_pipelines.retrieval.open import open_version

    chunking = {} if threshold is None else {"min_chunk_tokens": threshold}
    (root / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "shortchunks", "data_dir": str(root / "data")},
                "embedding": {"device": "cpu"},
                "defaults": {"chunking": chunking},
                "evaluation": {"modes": MODES},
                "sources": [{"name": source, "connector": connector}],
            }
        )
    )
    ctx = PipelineContext(load_sources_file(root / "sources.yaml"))
    model = SentenceTransformerModel(ctx.config.embedding, onnx_dir=ctx.workspace.onnx_dir)
    started = time.perf_counter()
    ingest(ctx, source)
    report = chunk(ctx, source, model.tokenizer)
    embedded = embed(ctx, source, model).embedded
    chunks = load_chunks(ctx, source)
    version = snapshot_corpus(ctx).snapshot.version
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    build_vector_index(ctx, version, store)
    build_bm25_index(ctx, version, store)
    build_graph_index(ctx, version)
    complete_candidate(ctx, version, store.kind)
    build_s = time.perf_counter() - started
    documents = [(d.id, d.title) for d in load_documents(ctx, source)]
    golden = golden_for(documents)  # type: ignore[operator]
    index = open_version(ctx, version, store)
    scores = evaluate_version(
        index, ctx.registry.build_path(version), {"set": (golden, None)}, MODES
    )["set"]
    index.close()
    store.close()
    minimum = 20  # short: under the default threshold, in both variants
    return {
        "chunks": report.chunks,
        "short_chunks": sum(1 for c in chunks if len(model.tokenizer.encode(c.text)) < minimum),
        "merged": report.short_merged,
        "extended": report.short_extended,
        "dropped": report.short_dropped,
        "embedded": embedded,
        "queries": len(golden.queries),
        "build_s": round(build_s, 1),
        "metrics": {
            m: {
                k: round(v, 4)
                for k, v in scores[m].items()
                if k in ("ndcg@10", "recall@10", "mrr@10")
            }
            for m in MODES
        },
    }


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    main()
