"""Serve the fine-tuned MiniLM: publish it through the quality gate and measure the new version.

Usage: python scripts/eval_serve_finetuned.py [--state DIR] [--model DIR] [--levers FILE]
                                              [--fusion-from FILE] [--out FILE]

Runs after scripts/eval_scifact.py, eval_finetune.py and eval_levers.py (same --state). It is
the documented path, nothing special: a copy of the state's sources.yaml with `embedding.model`
pointing at the `embedding_finetune` output, `evaluation.tune_fusion_method: true`, and the
BM25 k1 / b that eval_levers.py chose on the tuning queries (`index.bm25`), materialized like
any configuration change. The model change gives a new version (its chunk vectors come from
the embedding cache), fusion is re-tuned on the 554 tuning queries only (RRF and min-max), and
the blocking `retrieval_quality` check compares it with the live version on the 255 held-back
queries before `publish` may move LIVE. Then both versions are scored (dense and hybrid) on
the held-back queries through the engine, as the service would answer, and LIVE is rolled
back to the base version (`rag-pipelines rollback`'s function) so that a rerun of `make eval`
measures the base pipeline again; --keep-live leaves the fine-tuned version published.
--fusion-from serves a fusion chosen elsewhere (scripts/eval_crossfit.py's) fixed in
`retrieval.fusion`, with fusion tuning off.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def chosen_bm25(levers: Path) -> dict[str, float]:
    """index.bm25's k1 / b as eval_levers.py chose them on the tuning queries (else none)."""
    if not levers.exists():
        return {}
    name = json.loads(levers.read_text()).get("finetuned_dense", {}).get("bm25_chosen_on_tuning")
    match = re.fullmatch(r"bm25_k([0-9.]+)_b([0-9.]+)", name or "")
    return {"k1": float(match[1]), "b": float(match[2])} if match else {}


def finetuned_config(
    state: Path, model: Path, bm25: dict[str, float], fusion: dict[str, object] | None = None
) -> Path:
    """The state's sources.yaml serving `model`: fusion tuning picks the method, or `fusion`
    (retrieval.fusion's method / k / weights) is fixed and not re-tuned."""
    data = yaml.safe_load((state / "sources.yaml").read_text())
    if bm25:
        data.setdefault("index", {}).setdefault("bm25", {}).update(bm25)
    data.setdefault("embedding", {})["model"] = str(model)
    data["embedding"].pop("finetune", None)
    if fusion is None:
        data.setdefault("evaluation", {})["tune_fusion_method"] = True
    else:
        data.setdefault("retrieval", {}).setdefault("fusion", {}).update(fusion)
        data.setdefault("evaluation", {})["tune_fusion"] = False
    # a model change retrains a configured reranker (minutes); it did not help here
    data.setdefault("retrieval", {}).pop("rerank", None)
    path = state / ("sources-finetuned.yaml" if fusion is None else "sources-fixed-fusion.yaml")
    path.write_text(yaml.safe_dump(data))
    return path


def gate_and_score(config: Any, label: str, keep_live: bool = False) -> dict[str, object]:
    """Materialize `config` (a change to the state's live configuration) through the gate;
    score the previous live version and the candidate (dense, hybrid) on the held-back
    queries; roll LIVE back unless `keep_live`. What the gate measured is under "checks"."""
    import dagster as dg

    from assets.runs import materialize_pipeline
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.evaluation.golden import load_beir
    from rag_pipelines.evaluation.metrics import evaluate
    from rag_pipelines.evaluation.runs import run_golden
    from rag_pipelines.index.records import load_fusion_record
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.pipeline.publish import rollback
    from rag_pipelines.retrieval.open import open_version

    ctx = PipelineContext(config)
    before = ctx.registry.live()
    assert before is not None, "nothing is published; run scripts/eval_scifact.py first"
    started = time.perf_counter()
    runs = materialize_pipeline(config, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    build_seconds = round(time.perf_counter() - started, 1)
    candidate = ctx.registry.versions()[-1]
    after = ctx.registry.live()
    verdicts = {name: v.model_dump() for name, v in ctx.registry.checks(candidate).items()}
    tables = [  # the retrieval_quality check's own table: candidate vs live, per set and mode
        str(e.metadata["table"].value)
        for r in runs
        for e in r.get_asset_check_evaluations()
        if e.check_name == "retrieval_quality" and "table" in e.metadata
    ]
    fusion = load_fusion_record(ctx.registry.build_path(candidate))

    eval_set = config.evaluation.sets[0]
    golden = load_beir(eval_set.queries, eval_set.qrels, "scifact")
    _, held = golden.split(eval_set.holdout_fraction, eval_set.seed)
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for name, version in (("previous live", before.version), (label, candidate)):
        index = open_version(ctx, version, store)
        scores[name] = {}
        for mode in ("dense", "hybrid"):  # tuning-part scores are in the fusion record
            run = run_golden(index, held, mode, False, 100, ("scifact",))
            scores[name][f"{mode} holdout"] = evaluate(held.qrels, run)
        index.close()
        print(name, version, json.dumps(scores[name]), flush=True)
    published = after is not None and after.version == candidate
    if published and not keep_live:
        rollback(ctx, store, before.version)
    store.close()

    return {
        "previous_live": before.version,
        "candidate": candidate,
        "served_fusion": ctx.registry.manifest(candidate).retrieval.get("fusion"),
        "published": published,
        "rolled_back_to": before.version if published and not keep_live else None,
        "runs_succeeded": all(r.success for r in runs),
        "checks": verdicts,
        "gate_table": tables[-1] if tables else None,
        "fusion_tuning": fusion.model_dump() if fusion else None,
        "scores": scores,
        "build_and_gate_seconds": build_seconds,
    }


def main() -> None:
    """Materialize the fine-tuned configuration; report gate, fusion and held-back scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=REPO / ".rag-eval")
    parser.add_argument("--model", type=Path, help="default: <data_dir>/models/finetuned")
    parser.add_argument("--levers", type=Path, default=REPO / "bench-results" / "levers.json")
    parser.add_argument("--bm25", help="K1,B instead of eval_levers.py's choice")
    parser.add_argument(
        "--fusion-from", type=Path, help="JSON whose chosen_fusion is served as is (no re-tuning)"
    )
    parser.add_argument("--keep-live", action="store_true", help="do not roll LIVE back")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "serve_finetuned.json")
    args = parser.parse_args()
    if not (args.state / "sources.yaml").exists():
        sys.exit(f"run `make eval` first: it leaves {args.state}/sources.yaml")

    from rag_pipelines.config import load_sources_file

    base = load_sources_file(args.state / "sources.yaml")
    # absolute: sources.yaml reads a bare relative path as a Hugging Face id
    model = (args.model or base.pipeline.data_dir / "models" / "finetuned").resolve()
    if not (model / "finetune.json").exists():
        sys.exit(f"no fine-tuned model in {model}; run scripts/eval_finetune.py first")
    bm25 = chosen_bm25(args.levers)
    if args.bm25:
        k1, b = (float(v) for v in args.bm25.split(","))
        bm25 = {"k1": k1, "b": b}
    fixed = json.loads(args.fusion_from.read_text())["chosen_fusion"] if args.fusion_from else None
    config = load_sources_file(finetuned_config(args.state, model, bm25, fixed))
    gated = gate_and_score(config, "fine-tuned", args.keep_live)
    result = {"model": str(model), "bm25": bm25 or "as configured", "fusion_fixed": fixed, **gated}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "checks"}, indent=1))


if __name__ == "__main__":
    main()
