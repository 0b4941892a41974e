"""Scale model: measure orchestration overhead and the serial corpus-wide steps, fit, project.

Usage: python scripts/scale_model.py [--sizes 10000,30000,100000] [--partitions 10,100]
                                    [--vector-max 30000] [--out bench-results/scale.json]

Measures, on this machine and with this repo's own code:
  - Dagster's per-run overhead: a trivial partitioned asset, one run per partition, through
    dg.materialize on a temporary on-disk instance (SQLite run and event storage);
  - the serial, corpus-wide steps on synthetic chunks: snapshot (snapshot_corpus), BM25
    statistics (Bm25Tokenizer + Bm25Model.fit) and sparse vectors, the graph (build_graph +
    save_graph), the dense index into Qdrant Edge (build_vector_index), publish (publish);
  - a 1 % refresh: change detection and cache writes of embed_chunks for the changed chunks.
Fits each step as t = a·n^k, and projects wall time and cost for 10M and 100M chunks
(see docs/scaling.md for the model and the assumptions).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import dagster as dg
from scale_projection import SERIAL_STEPS, check_scifact, project

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DIM = 384
WORDS_PER_CHUNK = 110  # SciFact chunks of 200 MiniLM tokens average ~110-150 words
CHUNKS_PER_DOC = 4


def rss_mib() -> float:
    """Current resident memory of this process."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (the CPUs are shared)."""
    with open("/proc/loadavg") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def measure_orchestration(partitions: int, root: Path) -> dict[str, Any]:
    """Seconds per run of a trivial partitioned asset, one run per partition."""
    keys = [f"p{i:05d}" for i in range(partitions)]

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(keys))
    def shard() -> int:
        """Does nothing: what remains is Dagster's own cost per run."""
        return 1

    home = root / f"dagster-{partitions}"
    home.mkdir()
    instance = dg.DagsterInstance.local_temp(str(home))
    started = time.perf_counter()
    for key in keys:
        result = dg.materialize([shard], partition_key=key, instance=instance)
        assert result.success
    seconds = time.perf_counter() - started
    return {
        "partitions": partitions,
        "seconds": round(seconds, 2),
        "seconds_per_run": round(seconds / partitions, 3),
        "load_average": load_average(),
    }


def synthetic_corpus(n: int, seed: int = 0) -> tuple[list[Any], list[Any]]:
    """`n` chunks over n/4 documents; words drawn from a Zipf-like vocabulary of pseudo-words."""
    import numpy as np

    from rag_pipelines.chunking.models import Chunk
    from rag_pipelines.hashing import sha256_text
    from rag_pipelines.ingest.models import Document, Section

    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "shu", "gra", "tol"]
    vocab = np.array(
        ["".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(40_000)]
    )
    weights = 1 / np.arange(1, len(vocab) + 1) ** 1.05
    words = rng.choice(len(vocab), size=(n, WORDS_PER_CHUNK), p=weights / weights.sum())
    chunks, documents = [], []
    for d in range(math.ceil(n / CHUNKS_PER_DOC)):
        doc_id = f"doc{d:08d}"
        texts = [
            " ".join(vocab[words[i]]) + "."
            for i in range(d * CHUNKS_PER_DOC, min(n, (d + 1) * CHUNKS_PER_DOC))
        ]
        doc_hash = sha256_text(*texts)
        documents.append(
            Document(
                id=doc_id,
                source="synth",
                uri=f"synth://{doc_id}",
                content_hash=doc_hash,
                modified_at="2026-01-01T00:00:00+00:00",
                title=doc_id,
                sections=[Section(text="\n\n".join(texts))],
            )
        )
        for ordinal, text in enumerate(texts):
            text_hash = sha256_text(text)
            chunks.append(
                Chunk(
                    id=sha256_text("synth", doc_id, text_hash, str(ordinal)),
                    source="synth",
                    document_id=doc_id,
                    document_uri=f"synth://{doc_id}",
                    document_hash=doc_hash,
                    title=doc_id,
                    ordinal=ordinal,
                    text=text,
                    embed_text=text,
                    text_hash=text_hash,
                    token_count=WORDS_PER_CHUNK,
                    chunker="synthetic",
                )
            )
    return chunks, documents


class RandomModel:
    """Stands in for the embedder where only the pipeline's own cost is measured."""

    def __init__(self) -> None:
        from rag_pipelines.embedding.fingerprint import ModelFingerprint

        self.fingerprint = ModelFingerprint(
            name="synthetic", revision="1", dimension=DIM, normalize=True
        )

    def encode(self, texts: list[str]) -> Any:
        """Unit vectors, float32."""
        import numpy as np

        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), DIM))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def measure_size(n: int, root: Path, vector_max: int) -> dict[str, Any]:
    """Every serial step at `n` chunks, then a 1 % refresh."""
    from rag_pipelines.config.models import SourcesFile
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.embedding.cache import EmbeddingCache
    from rag_pipelines.embedding.embedder import embed_chunks
    from rag_pipelines.index.bm25 import Bm25Model
    from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
    from rag_pipelines.index.edge_store import EdgeVectorStore
    from rag_pipelines.index.graph_build import build_graph
    from rag_pipelines.index.graph_store import save_graph
    from rag_pipelines.index.manifest import CheckRecord
    from rag_pipelines.index.versions import utc_now
    from rag_pipelines.pipeline.build.embeddings import embed
    from rag_pipelines.pipeline.build.indexes import build_vector_index
    from rag_pipelines.pipeline.build.snapshot import snapshot_chunks, snapshot_corpus
    from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
    from rag_pipelines.pipeline.publish import publish
    from rag_pipelines.storage import write_jsonl

    base = root / f"n{n}"
    (base / "docs").mkdir(parents=True)
    config = SourcesFile.model_validate(
        {
            "pipeline": {"name": "scale", "data_dir": str(base / "data")},
            "sources": [
                {"name": "synth", "connector": {"type": "filesystem", "root": str(base / "docs")}}
            ],
        }
    )
    ctx = PipelineContext(config)
    out: dict[str, Any] = {"chunks": n, "load_average_before": load_average()}
    chunks, documents = synthetic_corpus(n)
    write_jsonl(ctx.workspace.documents_path("synth"), documents)
    write_jsonl(ctx.workspace.chunks_path("synth"), chunks)
    model = RandomModel()
    t = time.perf_counter()
    embed(ctx, "synth", model)  # fills the cache: the pipeline's cost, minus the model
    out["embed_bookkeeping_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    version = snapshot_corpus(ctx).snapshot.version
    out["snapshot_s"] = round(time.perf_counter() - t, 2)

    frozen = snapshot_chunks(ctx, version)
    tokenize = Bm25Tokenizer(config.index.bm25)
    for chunk in frozen[:50]:  # warm-up: stemmer and stop-word tables load on first use
        tokenize(chunk.embed_text)
    t = time.perf_counter()
    terms = [tokenize(c.embed_text) for c in frozen]
    bm25 = Bm25Model.fit(
        terms, config.index.bm25.k1, config.index.bm25.b, config.index.bm25.epsilon
    )
    out["bm25_statistics_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    for chunk_terms in terms:
        bm25.document_vector(chunk_terms)
    out["bm25_vectors_s"] = round(time.perf_counter() - t, 2)
    out["bm25_terms"] = len(bm25.vocab)
    del terms

    before = rss_mib()
    t = time.perf_counter()
    graph = build_graph(frozen, {}, config.index.graph)
    out["graph_build_s"] = round(time.perf_counter() - t, 2)
    out["graph_rss_mib"] = round(rss_mib() - before, 1)
    out["graph_nodes"], out["graph_edges"] = graph.number_of_nodes(), graph.number_of_edges()
    t = time.perf_counter()
    save_graph(graph, base / "graph.json")
    out["graph_save_s"] = round(time.perf_counter() - t, 2)
    del graph

    store = EdgeVectorStore(ctx.workspace.edge_dir)
    if n <= vector_max:
        t = time.perf_counter()
        build_vector_index(ctx, version, store)
        out["vector_index_s"] = round(time.perf_counter() - t, 2)
    for name in BLOCKING_CHECKS:
        ctx.registry.record_check(
            version, CheckRecord(name=name, passed=True, checked_at=utc_now())
        )
    _bare_manifest(ctx, version)
    t = time.perf_counter()
    publish(ctx, version, store)
    out["publish_s"] = round(time.perf_counter() - t, 2)
    store.close()

    changed = max(1, n // 100)
    edited = [
        c.model_copy(update={"text_hash": c.text_hash[::-1], "embed_text": c.embed_text + " new"})
        if i % 100 == 0
        else c
        for i, c in enumerate(chunks)
    ][: len(chunks)]
    cache = EmbeddingCache(ctx.workspace.embedding_cache_path)
    t = time.perf_counter()
    report = embed_chunks(edited, model, cache)
    out["refresh_embed_bookkeeping_s"] = round(time.perf_counter() - t, 2)
    cache.close()
    out["refresh_changed_chunks"] = report.embedded
    assert abs(report.embedded - changed) <= 1, report
    out["load_average_after"] = load_average()
    return out


def _bare_manifest(ctx: Any, version: str) -> None:
    """The version's manifest (the parts the model times separately are not needed to publish)."""
    from rag_pipelines.index.manifest import BuildManifest
    from rag_pipelines.pipeline.build.snapshot import load_snapshot

    snap = load_snapshot(ctx, version)
    ctx.registry.complete(
        BuildManifest(
            version=version,
            pipeline=snap.pipeline,
            created_at=snap.created_at,
            store_kind="edge",
            collection=f"rag_scale_{version}",
            model_ref=snap.model_ref,
            model=snap.model,
            sources=snap.sources,
            documents=snap.documents,
            chunks=snap.chunks,
            vectors=0,
            content_hash=snap.content_hash,
        )
    )


def fit_power(sizes: list[int], seconds: list[float]) -> dict[str, float]:
    """Least-squares t = a·n^k on log-log axes (k≈1: linear; k a bit above 1: n log n)."""
    import numpy as np

    pairs = [(n, s) for n, s in zip(sizes, seconds, strict=True) if s > 0]
    if len(pairs) < 2:
        return {}
    x = np.log([p[0] for p in pairs])
    y = np.log([p[1] for p in pairs])
    k, log_a = np.polyfit(x, y, 1)
    return {"k": round(float(k), 3), "a": float(math.exp(log_a))}


def main() -> None:
    """Measure, fit, project; write the JSON and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--partitions", default="10,100")
    parser.add_argument("--vector-max", type=int, default=30000)
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "scale.json")
    parser.add_argument("--note", default="", help="conditions to record, e.g. other jobs running")
    parser.add_argument("--project-only", action="store_true", help="re-project from --out")
    parser.add_argument(
        "--add-partitions", default="", help="measure these partition counts into --out, e.g. 1000"
    )
    # Published: sbert.net "Pretrained Models" table, all-MiniLM-L6-v2, 14,200 sentences/s (V100).
    parser.add_argument("--gpu-sentences-per-s", type=float, default=14_200)
    parser.add_argument(
        "--chunk-length-factor",
        type=float,
        default=0.25,
        help="assumed: a 200-token chunk costs ~4 benchmark sentences",
    )
    parser.add_argument(
        "--cpu-chunk-rate",
        type=float,
        default=580,
        help="parse+chunk chunks/s per 2-core worker (bench-results/embedding.json)",
    )
    parser.add_argument("--chunks-per-partition", type=int, default=100_000)
    parser.add_argument("--pod-start-s", type=float, default=30, help="assumed k8s pod start")
    parser.add_argument("--gpu-hour-usd", type=float, default=1.0, help="assumed price")
    parser.add_argument("--cpu-worker-hour-usd", type=float, default=0.1, help="assumed price")
    args = parser.parse_args()
    if args.project_only or args.add_partitions:
        result = json.loads(args.out.read_text(encoding="utf-8"))
        for count in filter(None, args.add_partitions.split(",")):
            with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
                row = measure_orchestration(int(count), Path(tmp))
            others = [o for o in result["orchestration"] if o["partitions"] != row["partitions"]]
            result["orchestration"] = sorted([*others, row], key=lambda o: o["partitions"])
        result["projection"] = project(result, args)
        result["scifact_check"] = check_scifact(result, args)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: result[k] for k in ("projection", "scifact_check")}, indent=2))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    root = Path(tempfile.mkdtemp(prefix="rag-scale-"))
    started = time.perf_counter()
    result: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "conditions": {"note": args.note, "load_average_start": load_average()},
        "orchestration": [measure_orchestration(int(p), root) for p in args.partitions.split(",")],
        "serial": [],
    }
    for n in sizes:
        result["serial"].append(measure_size(n, root, args.vector_max))
        print(json.dumps(result["serial"][-1]), flush=True)
    steps = [*SERIAL_STEPS, "embed_bookkeeping_s", "refresh_embed_bookkeeping_s", "graph_rss_mib"]
    fits = {}
    for step in steps:
        rows = [r for r in result["serial"] if step in r]
        fits[step] = fit_power([r["chunks"] for r in rows], [r[step] for r in rows])
    result["fits"] = fits
    result["conditions"]["load_average_end"] = load_average()
    result["conditions"]["wall_seconds"] = round(time.perf_counter() - started, 1)
    shutil.rmtree(root, ignore_errors=True)
    result["projection"] = project(result, args)
    result["scifact_check"] = check_scifact(result, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("fits", "projection", "scifact_check")}, indent=2))


if __name__ == "__main__":
    main()
