"""Fine-tune MiniLM on SciFact's tuning queries; base vs fine-tuned dense retrieval on held-back.

Usage: python scripts/eval_finetune.py [--state DIR] [--out FILE]

`make eval` (scripts/eval_scifact.py) runs this as its last step. Run alone, it reuses the
state `make eval` left in --state (sources.yaml, parsed chunks, embedding cache) and adds its
rows to the JSON in --out. It is the `embedding_finetune` asset's own function: sentence-
transformers MultipleNegativesRankingLoss (in-batch negatives) on the tuning part of the judged
queries (the same hash split as the golden set, so the held-back queries are never trained on),
then exact dense search over every chunk with each model, scored by ranx.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

if TYPE_CHECKING:
    from rag_pipelines.config.models import SourcesFile


def finetune_rows(
    config: SourcesFile, data: Path, rows: list[dict[str, object]]
) -> dict[str, object]:
    """Fine-tune MiniLM on the tuning part; append base vs fine-tuned dense rows (held-back)."""
    from rag_pipelines.config.models import EmbeddingFinetuneSettings
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.pipeline.tuning.finetune import finetune_embedding

    settings = EmbeddingFinetuneSettings(
        queries=data / "queries.jsonl",
        qrels=data / "qrels" / "train.tsv",
        source="scifact",
        holdout_fraction=0.3,
        epochs=2,
    )
    tuned = config.model_copy(
        update={"embedding": config.embedding.model_copy(update={"finetune": settings})}
    )
    report = finetune_embedding(
        PipelineContext(tuned),
        lambda done, total: (
            print(f"fine-tune step {done}/{total}", flush=True)
            if done == total or done % 10 == 0
            else None
        ),
    )
    record = report.record
    for name in ("base", "finetuned"):
        rows.append(
            {
                "mode": f"dense, {'fine-tuned' if name == 'finetuned' else 'base'} MiniLM "
                "(exact search)",
                "rerank": False,
                "holdout": record.holdout[name],
                "ms_per_query": None,
            }
        )
        print(rows[-1], flush=True)
    return {
        "train_queries": record.train_queries,
        "train_pairs": record.train_pairs,
        "holdout_queries": record.holdout_queries,
        "training": record.training,
        "seconds": round(report.seconds, 1),
        "reused": report.reused,
    }


def main() -> None:
    """Fine-tune on the state `make eval` left; add the rows to its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "eval.json")
    args = parser.parse_args()
    from rag_pipelines.config import load_sources_file
    from rag_pipelines.ingest.connectors.beir import BeirConnector

    if not (args.state / "sources.yaml").exists() or not args.out.exists():
        sys.exit(f"run `make eval` first: it leaves {args.state}/sources.yaml and {args.out}")
    config = load_sources_file(args.state / "sources.yaml")
    connector = config.sources[0].connector
    if not isinstance(connector, BeirConnector):
        sys.exit(f"{args.state}/sources.yaml: the first source is not the BEIR corpus")
    data = connector.path
    result = json.loads(args.out.read_text())
    rows = [r for r in result["rows"] if "exact search" not in r["mode"]]
    result["finetune"] = finetune_rows(config, Path(data), rows)
    result["rows"] = rows
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    from eval_scifact import render

    print(render(result))


if __name__ == "__main__":
    main()
