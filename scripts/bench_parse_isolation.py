"""Cost of parsing in the bounded worker process vs in-process, over the mixed-docs files.

Usage: python scripts/bench_parse_isolation.py [DATA_DIR] [--repeat N]
Prints a JSON summary: in-process and worker seconds (best of N per file), the overhead, and
the one-off cost of starting a worker (spawn + importing the parsers).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.ingestion import list_source
from rag_pipelines.ingest.limits import ParseLimits
from rag_pipelines.ingest.parsing import parse_in_worker, parse_item, warm_up
from rag_pipelines.ingest.worker import POOL, ParseWorker

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "mixed-docs"


def main() -> None:
    """Time every file both ways and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    source = SourceConfig.model_validate(
        {"name": "mixed", "connector": {"type": "filesystem", "root": str(args.data)}}
    )
    items = list_source(source, {}).items
    limits = ParseLimits()
    started = time.perf_counter()
    ParseWorker(limits.memory_bytes, warm_up).close()
    startup = time.perf_counter() - started
    warm_up()  # the in-process side gets the same imports up front
    parse_in_worker(items[0], "mixed", limits)  # leaves a warm worker in the pool
    inline = worker = 0.0
    parsed = 0
    for item in items:
        best_inline = best_worker = float("inf")
        for _ in range(args.repeat):
            try:
                t0 = time.perf_counter()
                parse_item(item, "mixed", limits=limits)
                t1 = time.perf_counter()
                parse_in_worker(item, "mixed", limits)
                t2 = time.perf_counter()
            except Exception:  # a file that fails fails both ways; not part of the comparison
                break
            best_inline, best_worker = min(best_inline, t1 - t0), min(best_worker, t2 - t1)
        else:
            inline, worker, parsed = inline + best_inline, worker + best_worker, parsed + 1
    POOL.close()
    print(
        json.dumps(
            {
                "files": parsed,
                "in_process_s": round(inline, 3),
                "worker_s": round(worker, 3),
                "overhead_s": round(worker - inline, 3),
                "overhead_per_file_ms": round(1000 * (worker - inline) / max(parsed, 1), 1),
                "overhead_pct": round(100 * (worker - inline) / inline, 1) if inline else None,
                "worker_startup_s": round(startup, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
