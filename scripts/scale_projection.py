"""The scale model's projection: fitted serial steps + parallel stages → wall time and cost.

Used by scripts/scale_model.py (which measures and fits); see docs/scaling.md.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERIAL_STEPS = (
    "snapshot_s",
    "bm25_statistics_s",
    "bm25_vectors_s",
    "graph_build_s",
    "graph_save_s",
    "vector_index_s",
    "publish_s",
)


# Linear by construction (publish reads both versions' documents once) but measured at k≈1.9
# under a load average of 9-11 on 2 cores: projected linearly from the largest size instead.
LINEAR_STEPS = ("publish_s",)


def at(fit: dict[str, float], n: float) -> float:
    """A fitted step's seconds at n chunks."""
    return fit["a"] * n ** fit["k"] if fit else 0.0


def fits_for_projection(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The power-law fits, with LINEAR_STEPS replaced by t = t(largest) · n / largest."""
    fits = dict(result["fits"])
    for step in LINEAR_STEPS:
        rows = [r for r in result["serial"] if step in r]
        largest = max(rows, key=lambda r: r["chunks"])
        fits[step] = {"k": 1.0, "a": largest[step] / largest["chunks"]}
    return fits


def project(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Wall time and cost of a full build (and a 1 % refresh) at 10M and 100M chunks."""
    fits = fits_for_projection(result)
    per_run = max(o["seconds_per_run"] for o in result["orchestration"])
    gpu_rate = args.gpu_sentences_per_s * args.chunk_length_factor
    rows = []
    for chunks in (10_000_000, 100_000_000):
        serial = {step: at(fits[step], chunks) for step in SERIAL_STEPS}
        partitions = math.ceil(chunks / args.chunks_per_partition)
        for workers, gpus in ((16, 4), (64, 16), (256, 64)):
            chunking = chunks / (workers * args.cpu_chunk_rate)
            embedding = chunks / (gpus * gpu_rate)
            waves = math.ceil(partitions / workers)
            orchestration = waves * (per_run + args.pod_start_s)
            parallel = max(chunking, embedding) + orchestration
            wall = parallel + sum(serial.values())
            refresh_embed = chunks * 0.01 / (gpus * gpu_rate)
            refresh = refresh_embed + orchestration + sum(serial.values())
            cost = (
                wall / 3600 * args.cpu_worker_hour_usd  # the serial steps run on one worker
                + (chunking + orchestration) / 3600 * workers * args.cpu_worker_hour_usd
                + (embedding + orchestration) / 3600 * gpus * args.gpu_hour_usd
            )
            rows.append(
                {
                    "chunks": chunks,
                    "workers": workers,
                    "gpus": gpus,
                    "partitions": partitions,
                    "chunking_h": round(chunking / 3600, 2),
                    "embedding_h": round(embedding / 3600, 2),
                    "orchestration_h": round(orchestration / 3600, 2),
                    "serial_h": {
                        k.removesuffix("_s"): round(v / 3600, 2) for k, v in serial.items()
                    },
                    "serial_total_h": round(sum(serial.values()) / 3600, 2),
                    "wall_h": round(wall / 3600, 2),
                    "refresh_1pct_h": round(refresh / 3600, 2),
                    "cost_usd": round(cost),
                    "graph_memory_gib": round(at(fits["graph_rss_mib"], chunks) / 1024, 1),
                }
            )
    return {
        "linear_steps": list(LINEAR_STEPS),
        "assumptions": {
            k: getattr(args, k)
            for k in (
                "gpu_sentences_per_s",
                "chunk_length_factor",
                "cpu_chunk_rate",
                "chunks_per_partition",
                "pod_start_s",
                "gpu_hour_usd",
                "cpu_worker_hour_usd",
            )
        },
        "gpu_chunks_per_s": gpu_rate,
        "orchestration_s_per_run": per_run,
        "rows": rows,
    }


def check_scifact(result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The model at SciFact's size on 2 CPU cores, against the measured full build."""
    measured = json.loads((REPO / "bench-results" / "embedding.json").read_text())["end_to_end"]
    chunks = measured["chunks"]
    stages = measured["stage_seconds"]
    fits = fits_for_projection(result)
    serial = sum(at(fits[s], chunks) for s in SERIAL_STEPS)
    predicted = stages["documents"] + stages["chunks"] + stages["embeddings"] + serial
    return {
        "chunks": chunks,
        "measured_wall_s": measured["wall_seconds"],
        "per_source_stages_s (measured)": round(
            stages["documents"] + stages["chunks"] + stages["embeddings"], 1
        ),
        "serial_steps_s (fitted here)": round(serial, 1),
        "predicted_wall_s": round(predicted, 1),
        "error_percent": round(
            100 * (predicted - measured["wall_seconds"]) / measured["wall_seconds"], 1
        ),
    }
