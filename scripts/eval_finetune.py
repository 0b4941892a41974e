"""Fine-tune MiniLM on SciFact's tuning queries; base vs fine-tuned dense retrieval on held-back.

Usage: python scripts/eval_finetune.py [--state DIR] [--out FILE] [--hard-negatives]
                                       [--pseudo-queries N]

`make eval` (scripts/eval_scifact.py) runs this as its last step. Run alone, it reuses the
state `make eval` left in --state (sources.yaml, parsed chunks, embedding cache) and adds its
rows to the JSON in --out. It is the `embedding_finetune` asset's own function: sentence-
transformers MultipleNegativesRankingLoss (in-batch negatives) on the tuning part of the judged
queries (the same hash split as the golden set, so the held-back queries are never trained on),
then exact dense search over every chunk with each model, scored by ranx. With
--hard-negatives, the recipe that adds a mined negative per pair (`hard_negatives: true`),
saved as `finetuned_hn` beside the default model (`make eval` does not run it: ~1 h here).
With --pseudo-queries N, the recipe that adds N inverse-cloze pairs from the corpus
(`pseudo_queries: N`), saved as `finetuned_pq`: the model `make eval` serves.
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
    from rag_pipelines.evaluation.crossfit import Fold
    from rag_pipelines.pipeline.tuning.finetune import FinetuneReport


def finetune(
    config: SourcesFile,
    data: Path,
    hard_negatives: bool = False,
    output: str | None = None,
    leave_out: Fold | None = None,
    pseudo_queries: int | None = None,
) -> FinetuneReport:
    """The plain `embedding_finetune` recipe (2 epochs) on the state's config, run in-process."""
    from rag_pipelines.config.models import EmbeddingFinetuneSettings
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.pipeline.tuning.finetune import finetune_embedding
    from rag_pipelines.retrieval.open import open_version

    extra: dict[str, object] = (
        {"hard_negatives": True, "output": "finetuned_hn"} if hard_negatives else {}
    )
    if pseudo_queries:
        extra.update({"pseudo_queries": pseudo_queries, "output": "finetuned_pq"})
    if output:
        extra["output"] = output
    settings = EmbeddingFinetuneSettings(
        queries=data / "queries.jsonl",
        qrels=data / "qrels" / "train.tsv",
        source="scifact",
        holdout_fraction=0.3,
        epochs=2,
        **extra,
    )
    tuned = config.model_copy(
        update={"embedding": config.embedding.model_copy(update={"finetune": settings})}
    )
    ctx = PipelineContext(tuned)
    store = open_vector_store(tuned.index.qdrant, ctx.workspace)
    try:
        return finetune_embedding(
            ctx,
            lambda done, total: (
                print(f"fine-tune step {done}/{total}", flush=True)
                if done == total or done % 10 == 0
                else None
            ),
            lambda: open_version(ctx, ctx.registry.live_manifest().version, store),
            leave_out,
        )
    finally:
        store.close()


def recipe_label(hard_negatives: bool, pseudo_queries: int | None) -> str:
    """How a recipe's rows are named after 'fine-tuned MiniLM' ('' for the plain recipe)."""
    if pseudo_queries:
        return "+ pseudo-queries "
    return "+ hard negatives " if hard_negatives else ""


def finetune_rows(
    config: SourcesFile,
    data: Path,
    rows: list[dict[str, object]],
    hard_negatives: bool = False,
    pseudo_queries: int | None = None,
) -> dict[str, object]:
    """Fine-tune MiniLM on the tuning part; append base vs fine-tuned dense rows (held-back)."""
    report = finetune(config, data, hard_negatives, pseudo_queries=pseudo_queries)
    record = report.record
    label = recipe_label(hard_negatives, pseudo_queries)
    for name in ("finetuned",) if label else ("base", "finetuned"):
        rows.append(
            {
                "mode": f"dense, {'fine-tuned' if name == 'finetuned' else 'base'} MiniLM "
                f"{label if name == 'finetuned' else ''}(exact search)",
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
    parser.add_argument("--hard-negatives", action="store_true", help="the mined-negative recipe")
    parser.add_argument("--pseudo-queries", type=int, help="add N inverse-cloze corpus pairs")
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

    label = recipe_label(args.hard_negatives, args.pseudo_queries)
    labels = (recipe_label(True, None), recipe_label(False, 1))

    def rerun(mode: str) -> bool:  # the rows this recipe writes again
        mine = label in mode if label else not any(x in mode for x in labels)
        return "exact search" in mode and mine

    rows = [r for r in result["rows"] if not rerun(r["mode"])]
    key = "finetune"
    if args.pseudo_queries:
        key = "finetune_pseudo_queries"
    elif args.hard_negatives:
        key = "finetune_hard_negatives"
    result[key] = finetune_rows(config, Path(data), rows, args.hard_negatives, args.pseudo_queries)
    result["rows"] = rows
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    from eval_scifact import render

    print(render(result))


if __name__ == "__main__":
    main()
