"""Benchmark: pipeline embedding overhead vs raw SentenceTransformer.encode, and end-to-end rates.

Usage: python scripts/bench_embedding.py [--limit N] [--overhead-chunks N] [--out FILE]

Phase 1 materializes the whole pipeline (parse → chunk → embed → Qdrant Edge → publish) on
SciFact through Dagster, from an empty data dir, and reports documents/s, chunks/s and peak
memory. Phase 2 embeds the same chunk texts twice in the same process — once through the
pipeline's embed_chunks (cache lookups, batching, SQLite writes), once with
SentenceTransformer.encode directly — and reports the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run both phases and print a Markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--limit", type=int, default=None, help="first N SciFact documents")
    parser.add_argument("--overhead-chunks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "embedding.json")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {args.data}; the benchmark needs ../shared/data/scifact")

    import dagster as dg
    import torch
    import yaml

    from assets.runs import materialize_pipeline, metadata_of
    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.embedding.cache import EmbeddingCache
    from rag_pipelines.embedding.embedder import embed_chunks
    from rag_pipelines.pipeline.build.chunks import load_chunks

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    connector: dict[str, object] = {"type": "beir", "path": str(args.data)}
    if args.limit:
        connector["limit"] = args.limit
    config_path = tmp / "sources.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "bench", "data_dir": str(tmp / "data")},
                "embedding": {"device": "auto", "batch_size": 64},
                "sources": [{"name": "scifact", "connector": connector}],
            }
        )
    )
    config = load_sources_file(config_path)

    started = time.perf_counter()
    results = materialize_pipeline(config, dg.DagsterInstance.ephemeral())
    wall = time.perf_counter() - started
    docs = metadata_of(results[0], "documents")
    chunks_meta = metadata_of(results[0], "chunks")
    emb = metadata_of(results[0], "embeddings")
    index = metadata_of(results[1], "vector_index")
    e2e = {
        "documents": docs["documents"],
        "chunks": chunks_meta["chunks"],
        "wall_seconds": round(wall, 1),
        "documents_per_second": round(float(docs["documents"]) / wall, 1),
        "chunks_per_second": round(float(chunks_meta["chunks"]) / wall, 1),
        "stage_seconds": {
            "documents": docs["seconds"],
            "chunks": chunks_meta["seconds"],
            "embeddings": emb["seconds"],
            "vector_index": index["seconds"],
        },
        "peak_rss_mib": round(peak_rss_mib(), 0),
    }

    from assets.resources import _MODELS

    model = next(iter(_MODELS.values()))
    chunks = load_chunks(PipelineContext(config), "scifact")[: args.overhead_chunks]
    texts = [c.embed_text for c in chunks]
    raw_model = model._model
    raw_model.encode(texts[:128], batch_size=64, show_progress_bar=False)  # warm-up
    direct_runs: list[float] = []
    pipeline_runs: list[float] = []
    for round_no in range(args.rounds):  # alternate, best of N: both see the same machine state
        t = time.perf_counter()
        raw_model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        direct_runs.append(time.perf_counter() - t)
        cache = EmbeddingCache(tmp / f"overhead-cache-{round_no}.sqlite")
        t = time.perf_counter()
        report = embed_chunks(chunks, model, cache)
        pipeline_runs.append(time.perf_counter() - t)
        cache.close()
    direct, pipeline = min(direct_runs), min(pipeline_runs)
    overhead = {
        "chunks": len(chunks),
        "rounds": args.rounds,
        "unique_texts": report.unique_texts,
        "direct_encode_seconds": round(direct, 2),
        "pipeline_embed_seconds": round(pipeline, 2),
        "direct_chunks_per_second": round(len(texts) / direct, 1),
        "pipeline_chunks_per_second": round(len(chunks) / pipeline, 1),
        "overhead_percent": round(100 * (pipeline / direct - 1), 1),
    }
    result = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "device": model.runtime.device,
            "precision": model.runtime.precision,
            "torch_threads": torch.get_num_threads(),
        },
        "model": model.fingerprint.key,
        "end_to_end": e2e,
        "embedding_overhead": overhead,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(
        "\n| measure | value |\n| --- | --- |\n"
        f"| documents / chunks | {e2e['documents']} / {e2e['chunks']} |\n"
        f"| end-to-end wall time | {e2e['wall_seconds']} s |\n"
        f"| documents/s, chunks/s (end to end) | {e2e['documents_per_second']}, "
        f"{e2e['chunks_per_second']} |\n"
        f"| peak memory (RSS) | {e2e['peak_rss_mib']:.0f} MiB |\n"
        f"| direct encode, {overhead['chunks']} chunks | {overhead['direct_chunks_per_second']} "
        "chunks/s |\n"
        f"| pipeline embed, same chunks | {overhead['pipeline_chunks_per_second']} chunks/s |\n"
        f"| pipeline overhead | {overhead['overhead_percent']} % |"
    )


if __name__ == "__main__":
    main()
