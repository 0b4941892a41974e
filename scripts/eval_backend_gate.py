"""Switch the encoder backend of the eval state and publish through the quality gate.

Usage: python scripts/eval_backend_gate.py [--state DIR] [--backend onnx-int8] [--out FILE]

Runs after scripts/eval_scifact.py (same --state). The state's sources.yaml with only
`embedding.backend` changed, materialized like any configuration change: `onnx-int8` gives new
vectors, so it is a new model identity (`…+int8`) — every chunk is re-embedded into a new
version, fusion is tuned on the tuning queries, and the blocking `retrieval_quality` check
compares it with the live version on the held-back queries before `publish` may move LIVE.
The JSON records what the gate measured (its verdict and metrics), both versions' held-back
scores, the build time, then LIVE is rolled back to the base version (--keep-live: not).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml
from eval_serve_finetuned import gate_and_score

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def backend_config(state: Path, backend: str) -> Path:
    """The state's sources.yaml with `embedding.backend` set, written beside it."""
    data = yaml.safe_load((state / "sources.yaml").read_text())
    data.setdefault("embedding", {})["backend"] = backend
    path = state / f"sources-{backend}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def main() -> None:
    """Materialize the backend change; report the gate's verdict and held-back scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--keep-live", action="store_true", help="do not roll LIVE back")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "gate_int8.json")
    args = parser.parse_args()
    if not (args.state / "sources.yaml").exists():
        sys.exit(f"run `make eval` first: it leaves {args.state}/sources.yaml")

    from rag_pipelines.config import load_sources_file

    config = load_sources_file(backend_config(args.state, args.backend))
    result = {
        "backend": args.backend,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        **gate_and_score(config, args.backend, args.keep_live),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "fusion_tuning"}, indent=1))


if __name__ == "__main__":
    main()
