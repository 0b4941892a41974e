"""Benchmark: MiniLM throughput on one GPU vs the multi-process pool over several GPUs.

Usage (on a machine with NVIDIA GPUs and a CUDA build of torch==2.13.0):
    python scripts/bench_multi_gpu.py --devices auto --texts 200000 --batch-size 256

Encodes the same texts (SciFact abstracts cut to ~200 words, repeated; or synthetic text with
--synthetic) once in-process on the first device and once through
rag_pipelines.embedding.multi_device (sentence-transformers' multi-process pool), checks the
vectors agree, and writes texts/s, the speed-up and the machine to bench-results/multi_gpu.json.
It cannot run on the CPU-only development machines (they have no GPU).
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


def load_texts(data: Path, count: int, synthetic: bool) -> list[str]:
    """`count` texts: SciFact abstracts (cycled) or synthetic sentences."""
    base: list[str] = []
    if not synthetic and (data / "corpus.jsonl").exists():
        with (data / "corpus.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                base.append(" ".join(f"{row.get('title', '')} {row['text']}".split()[:200]))
    if not base:
        base = [
            f"Protein {i % 97} regulates gene {i % 89} in tissue {i % 13}. " * 8 for i in range(997)
        ]
    return [f"{base[i % len(base)]} [{i}]" for i in range(count)]


def main() -> None:
    """Measure both paths and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="auto", help="auto or a comma list: cuda:0,cuda:1")
    parser.add_argument("--texts", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16"])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "scifact")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "multi_gpu.json")
    args = parser.parse_args()

    import numpy as np
    import torch

    from rag_pipelines.config.models import EmbeddingSettings
    from rag_pipelines.embedding.model import SentenceTransformerModel
    from rag_pipelines.embedding.multi_device import resolve_devices

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: run this on a GPU machine (see the usage line)")
    devices = ["auto"] if args.devices == "auto" else args.devices.split(",")
    pool_devices = resolve_devices(devices) or ["cuda:0"]
    texts = load_texts(args.data, args.texts, args.synthetic)
    common = {"batch_size": args.batch_size, "precision": args.precision}

    single = SentenceTransformerModel(EmbeddingSettings(device=pool_devices[0], **common))
    single.encode(texts[: args.batch_size * 4])  # warm-up: CUDA context, kernels
    started = time.perf_counter()
    want = single.encode(texts)
    single_s = time.perf_counter() - started

    pooled = SentenceTransformerModel(
        EmbeddingSettings(device=pool_devices[0], devices=pool_devices, **common)
    )
    assert pooled.pool is not None
    pooled.encode(texts[: args.batch_size * 4 * len(pool_devices)])  # start workers, warm up
    started = time.perf_counter()
    got = pooled.encode(texts)
    pool_s = time.perf_counter() - started
    pooled.pool.close()

    result = {
        "machine": {
            "platform": platform.platform(),
            "torch": torch.__version__,
            "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            "cpu_count": os.cpu_count(),
        },
        "model": single.fingerprint.key,
        "precision": single.runtime.precision,
        "texts": len(texts),
        "batch_size": args.batch_size,
        "single_device": {
            "device": pool_devices[0],
            "seconds": round(single_s, 2),
            "texts_per_second": round(len(texts) / single_s, 1),
        },
        "pool": {
            "devices": pool_devices,
            "seconds": round(pool_s, 2),
            "texts_per_second": round(len(texts) / pool_s, 1),
        },
        "speedup": round(single_s / pool_s, 2),
        "max_abs_difference": float(np.max(np.abs(got - want))),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
