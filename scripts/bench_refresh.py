"""Benchmark: full build vs incremental refresh after 1% of SciFact documents change.

Usage: python scripts/bench_refresh.py [--fraction 0.01] [--out FILE]

Copies SciFact's corpus into a temp folder, builds the whole pipeline through Dagster from an
empty data dir (parse → chunk → embed → Qdrant Edge dense + BM25 → graph → checks → publish),
reporting documents/s, chunks/s and peak memory end to end on the full corpus,
then edits `fraction` of the documents (a sentence appended to each abstract) and runs the
same pipeline again. Both wall times are end to end, Dagster run overhead included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    """Full build, edit, refresh; print and write the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--fraction", type=float, default=0.01)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "refresh.json")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {args.data}; the benchmark needs ../shared/data/scifact")

    import dagster as dg
    import yaml

    from assets.runs import materialize_pipeline, metadata_of
    from rag_pipelines.config import load_sources_file

    tmp = Path(tempfile.mkdtemp(prefix="rag-refresh-"))
    corpus_dir = tmp / "scifact"
    corpus_dir.mkdir()
    shutil.copy(args.data / "corpus.jsonl", corpus_dir / "corpus.jsonl")
    config_path = tmp / "sources.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "refresh", "data_dir": str(tmp / "data")},
                "sources": [
                    {"name": "scifact", "connector": {"type": "beir", "path": str(corpus_dir)}}
                ],
            }
        )
    )
    config = load_sources_file(config_path)
    instance = dg.DagsterInstance.ephemeral()

    started = time.perf_counter()
    materialize_pipeline(config, instance)
    full = time.perf_counter() - started
    full_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    lines = (corpus_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    rng = random.Random(7)
    edited = rng.sample(range(len(lines)), max(1, int(len(lines) * args.fraction)))
    for i in edited:
        record = json.loads(lines[i])
        record["text"] += " This abstract was revised for the refresh benchmark."
        lines[i] = json.dumps(record)
    (corpus_dir / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = time.perf_counter()
    results = materialize_pipeline(config, instance)
    refresh = time.perf_counter() - started
    docs = metadata_of(results[0], "documents")
    emb = metadata_of(results[0], "embeddings")
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "documents": docs["documents"],
        "documents_changed": docs["changed"],
        "chunks": emb["chunks"],
        "chunks_embedded_on_refresh": emb["embedded"],
        "full_build_s": round(full, 1),
        "full_build_documents_per_s": round(docs["documents"] / full, 1),
        "full_build_chunks_per_s": round(emb["chunks"] / full, 1),
        "full_build_peak_rss_mib": round(full_peak_mib),
        "refresh_s": round(refresh, 1),
        "refresh_percent_of_full": round(100 * refresh / full, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
