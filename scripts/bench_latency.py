"""Query latency per retrieval mode at 10k and 100k chunks, with baselines in the same run.

Usage: python scripts/bench_latency.py [--sizes 10000,100000] [--queries 200] [--out FILE]

SciFact's chunks (embedded once with MiniLM; cached in --state) are replicated with new ids up
to each size, then a real index version is built with the pipeline's own stages (Qdrant Edge
dense + BM25 sparse, networkx graph) and queried sequentially through the engine. Baselines
measured on the same data in the same run: rank_bm25.BM25Okapi (pure Python BM25) and
qdrant-client local mode (pure-Python Qdrant) for dense search. Replicas share vectors with
their originals, so dense results contain near-duplicates; latency is what is measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 in milliseconds and sequential queries per second."""
    ms = np.asarray(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "qps": round(1000 / float(statistics.mean(ms)), 1),
    }


def main() -> None:
    """Build each size, measure every mode and the baselines, write JSON and a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--state", type=Path, default=REPO / ".rag-bench")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline-queries", type=int, default=30)
    parser.add_argument("--docs", type=int, default=0, help="first N documents only (0: all)")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "latency.json")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"SciFact not found at {args.data}; the benchmark needs ../shared/data/scifact")

    import torch

    chunks, documents, model, queries = prepare_base(args)

    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "torch_threads": torch.get_num_threads(),
        },
        "model": model.fingerprint.key,
        "queries": len(queries),
        "sizes": {},
    }
    for size in [int(s) for s in args.sizes.split(",")]:
        results["sizes"][str(size)] = bench_size(  # type: ignore[index]
            args, size, chunks, documents, model, queries
        )
        print(json.dumps(results["sizes"][str(size)], indent=2), flush=True)  # type: ignore[index]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


def prepare_base(args):  # type: ignore[no-untyped-def]
    """SciFact (or its first --docs documents) ingested, chunked and embedded once, in --state."""
    import yaml

    from rag_pipelines.beir import read_queries
    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.pipeline.build.chunks import chunk as chunk_stage
    from rag_pipelines.pipeline.build.chunks import load_chunks
    from rag_pipelines.pipeline.build.documents import ingest, load_documents
    from rag_pipelines.pipeline.build.embeddings import embed

    args.state.mkdir(parents=True, exist_ok=True)
    connector: dict[str, object] = {"type": "beir", "path": str(args.data)}
    if args.docs:  # a small run: the first N documents
        with (args.data / "corpus.jsonl").open(encoding="utf-8") as handle:
            lines = zip(handle, range(args.docs), strict=False)
            connector["ids"] = [json.loads(line)["_id"] for line, _ in lines]
    base_path = args.state / "base.yaml"
    base_path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "base", "data_dir": str(args.state / "base")},
                "sources": [{"name": "scifact", "connector": connector}],
            }
        )
    )
    base = PipelineContext(load_sources_file(base_path))
    from rag_pipelines.embedding.model import SentenceTransformerModel

    model = SentenceTransformerModel(base.config.embedding, onnx_dir=base.workspace.onnx_dir)
    ingest(base, "scifact")
    chunk_stage(base, "scifact", model.tokenizer)
    embed(base, "scifact", model)
    chunks = load_chunks(base, "scifact")
    documents = load_documents(base, "scifact")
    queries = list(read_queries(args.data / "queries.jsonl").values())[: args.queries]
    return chunks, documents, model, queries


def bench_size(args, size, chunks, documents, model, queries):  # type: ignore[no-untyped-def]
    """Build a version of `size` chunks and measure it."""
    ctx, store, index, replicated, build = build_size(args, size, chunks, documents, model)
    root = args.state / f"size-{size}"
    modes: dict[str, dict[str, float]] = {}
    vectors = [model.encode([q])[0] for q in queries]
    for mode in ("dense", "bm25", "graph", "hybrid"):
        index.search(queries[0], 10, mode, False)  # warm-up
        index.encode.clear()  # query embedding included: no vector from an earlier mode
        samples = []
        for q in queries:
            t = time.perf_counter()
            index.search(q, 10, mode, False)
            samples.append(time.perf_counter() - t)
        modes[mode] = percentiles(samples)

    legs = bench_legs(index, queries, vectors)
    encode = []
    for q in queries:
        t = time.perf_counter()
        model.encode([q])
        encode.append(time.perf_counter() - t)
    legs["query_embedding"] = percentiles(encode)

    baselines = {
        "rank_bm25": bench_rank_bm25(index, replicated, queries[: args.baseline_queries]),
        "qdrant_client_local_dense": bench_client_local(
            ctx, replicated, vectors[: args.baseline_queries], root
        ),
    }
    store.close()
    return {"chunks": size, "build": build, "modes": modes, "legs": legs, "baselines": baselines}


def search_threads(threads: int) -> dict[str, object]:
    """index.qdrant.search_threads for the version's config (0: null, one per CPU)."""
    if threads == 1:
        return {}  # the default
    return {"index": {"qdrant": {"search_threads": threads or None}}}


def build_size(args, size, chunks, documents, model):  # type: ignore[no-untyped-def]
    """A complete version of `size` chunks: SciFact's chunks replicated with new ids."""
    import yaml

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.hashing import sha256_text
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.pipeline.build.candidate import complete_candidate
    from rag_pipelines.pipeline.build.embeddings import EmbeddingState
    from rag_pipelines.pipeline.build.indexes import (
        build_bm25_index,
        build_graph_index,
        build_vector_index,
    )
    from rag_pipelines.pipeline.build.snapshot import snapshot_corpus
    from rag_pipelines.retrieval.open import open_version
    from rag_pipelines.storage import atomic_write_text, write_jsonl

    root = args.state / f"size-{size}"
    shutil.rmtree(root, ignore_errors=True)
    config_path = args.state / f"size-{size}.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": f"bench{size}", "data_dir": str(root)},
                "sources": [
                    {"name": "scifact", "connector": {"type": "beir", "path": str(args.data)}}
                ],
                # bench_compare.py --search-threads N (0: Edge's default, one per CPU)
                **search_threads(getattr(args, "search_threads", 1)),
            }
        )
    )
    ctx = PipelineContext(load_sources_file(config_path))
    ws = ctx.workspace
    replicated, docs = [], []
    replica = 0
    while len(replicated) < size:
        suffix = "" if replica == 0 else f"~{replica}"
        for c in chunks:
            if len(replicated) >= size:
                break
            replicated.append(
                c.model_copy(
                    update={
                        "id": sha256_text(c.id, str(replica))[:32],
                        "document_id": c.document_id + suffix,
                    }
                )
            )
        docs += [d.model_copy(update={"id": d.id + suffix}) for d in documents]
        replica += 1
    write_jsonl(ws.chunks_path("scifact"), replicated)
    write_jsonl(ws.documents_path("scifact"), docs)
    ws.embedding_cache_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(args.state / "base" / "cache" / "embeddings.sqlite", ws.embedding_cache_path)
    state = EmbeddingState(
        source="scifact",
        model_ref=ctx.config.embedding.model,
        fingerprint=model.fingerprint,
        chunks=len(replicated),
        chunks_hash=sha256_text(*sorted(c.text_hash for c in replicated)),
    )
    atomic_write_text(ws.embeddings_state_path("scifact"), state.model_dump_json())

    store = open_vector_store(ctx.config.index.qdrant, ws)
    build: dict[str, float] = {}
    t = time.perf_counter()
    version = snapshot_corpus(ctx).snapshot.version
    build["snapshot_s"] = round(time.perf_counter() - t, 1)
    for name, fn in (
        ("dense_s", lambda: build_vector_index(ctx, version, store)),
        ("bm25_s", lambda: build_bm25_index(ctx, version, store)),
        ("graph_s", lambda: build_graph_index(ctx, version)),
    ):
        t = time.perf_counter()
        fn()
        build[name] = round(time.perf_counter() - t, 1)
    complete_candidate(ctx, version, store.kind)
    index = open_version(ctx, version, store)
    return ctx, store, index, replicated, build


def bench_legs(index, queries, vectors, limit=10):  # type: ignore[no-untyped-def]
    """Each leg alone, from the registry, query embedding excluded (the vector is given).

    The graph leg is timed with the dense and BM25 results it is seeded from computed
    beforehand, as search() hands them over.
    """
    from rag_pipelines.config.legs import legs as registered
    from rag_pipelines.retrieval.legs.base import LegQuery

    names = {"dense": "edge_dense_search", "bm25": "edge_bm25_search", "graph": "graph_walk"}
    samples: dict[str, list[float]] = {name: [] for name in registered()}
    for q, v in zip(queries, vectors, strict=True):
        prior = {}
        for name, leg in registered().items():
            query = LegQuery(q, limit, None, None, index.encode, v)
            t = time.perf_counter()
            prior[name] = leg.run(index, query, prior)
            samples[name].append(time.perf_counter() - t)
    return {names.get(n, n): percentiles(s) for n, s in samples.items()}


def bench_rank_bm25(index, chunks, queries):  # type: ignore[no-untyped-def]
    """rank_bm25.BM25Okapi on the same tokens: per-query scoring time."""
    from rank_bm25 import BM25Okapi

    t = time.perf_counter()
    bm25 = BM25Okapi([index.tokenize(c.embed_text) for c in chunks])
    fit = time.perf_counter() - t
    samples = []
    for q in queries:
        t = time.perf_counter()
        scores = bm25.get_scores(index.tokenize(q))
        np.argpartition(scores, -10)[-10:]
        samples.append(time.perf_counter() - t)
    return {**percentiles(samples), "fit_s": round(fit, 1)}


def bench_client_local(ctx, chunks, vectors, root):  # type: ignore[no-untyped-def]
    """qdrant-client local mode: upsert the same vectors, time dense searches."""
    from rag_pipelines.embedding.cache import EmbeddingCache
    from rag_pipelines.index.client_store import ClientVectorStore
    from rag_pipelines.index.vector_store import VectorPoint

    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)
    from qdrant_client import QdrantClient

    # Local mode in memory: the same pure-Python engine without the disk writes that make an
    # on-disk local collection take minutes to fill at 100k points.
    store = ClientVectorStore(QdrantClient(location=":memory:"))
    fingerprint = json.loads(ctx.workspace.embeddings_state_path("scifact").read_text())[
        "fingerprint"
    ]
    from rag_pipelines.embedding.fingerprint import ModelFingerprint

    fp = ModelFingerprint.model_validate(fingerprint)
    store.create_collection("bench", fp.dimension)
    t = time.perf_counter()
    for i in range(0, len(chunks), 2048):
        batch = chunks[i : i + 2048]
        cached = cache.get(fp.key, (c.text_hash for c in batch))
        store.upsert(
            "bench", [VectorPoint(c.id, cached[c.text_hash], {"chunk_id": c.id}) for c in batch]
        )
    upsert = time.perf_counter() - t
    samples = []
    for v in vectors:
        t = time.perf_counter()
        store.search("bench", v, 10)
        samples.append(time.perf_counter() - t)
    store.close()
    cache.close()
    return {**percentiles(samples), "upsert_s": round(upsert, 1)}


def render(results: dict[str, object]) -> str:
    """Markdown tables for docs/benchmarks.md."""
    lines = [
        "| chunks | mode | p50 ms | p95 ms | p99 ms | QPS |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size, r in results["sizes"].items():  # type: ignore[attr-defined]
        for mode, p in r["modes"].items():
            lines.append(
                f"| {size} | {mode} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['qps']} |"
            )
    lines += [
        "",
        "| chunks | component | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    for size, r in results["sizes"].items():  # type: ignore[attr-defined]
        for name, p in {**r["legs"], **r["baselines"]}.items():
            lines.append(f"| {size} | {name} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
