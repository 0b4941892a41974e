"""Evaluate index versions on the golden sets, and gate a candidate against the live version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.config.models import EvalSetSettings, QualityGate, SourcesFile
from rag_pipelines.evaluation.golden import GoldenSet, load_beir
from rag_pipelines.evaluation.leg_runs import LegRuns, run_legs
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.evaluation.runs import run_golden
from rag_pipelines.hashing import sha256_text
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.models import Mode

QUALITY = "quality.json"
Scores = dict[str, dict[str, dict[str, float]]]  # set → mode → metric → value


def gate_part(config: SourcesFile) -> str:
    """The part of the golden sets the gate (and experiments) score: "holdout" when anything is
    trained or tuned on their judged queries (fusion tuning, a fine-tuned embedder, a trained
    reranker) — those queries would flatter it —, else "all"."""
    trained = (
        config.evaluation.tune_fusion
        or config.embedding.finetune is not None
        or config.retrieval.rerank.train is not None
    )
    return "holdout" if trained else "all"


def golden_sets(
    settings: list[EvalSetSettings], part: str = "all", feedback_dir: Path | None = None
) -> dict[str, tuple[GoldenSet, str | None]]:
    """Each configured set (all queries, or its "tune" or "holdout" part), with its source;
    plus the feedback set (all of it) when `feedback_dir` holds one with judged queries."""
    out: dict[str, tuple[GoldenSet, str | None]] = {}
    if feedback_dir is not None and (feedback_dir / "qrels.tsv").exists():
        feedback = load_beir(feedback_dir / "queries.jsonl", feedback_dir / "qrels.tsv", "feedback")
        if feedback.queries:
            out["feedback"] = (feedback, None)
    for s in settings:
        golden = load_beir(s.queries, s.qrels, s.name)
        if part != "all":
            tune, holdout = golden.split(s.holdout_fraction, s.seed)
            golden = tune if part == "tune" else holdout
        if s.max_queries is not None:
            golden = golden.subset(list(golden.queries)[: s.max_queries], golden.name)
        out[s.name] = (golden, s.source)
    return out


def evaluate_version(
    index: VersionIndex,
    build_dir: Path,
    sets: dict[str, tuple[GoldenSet, str | None]],
    modes: list[Mode],
    rerank: bool = False,
) -> Scores:
    """Metrics per set and mode, cached in the version's folder (versions are immutable)."""
    path = build_dir / QUALITY
    cache: dict[str, dict[str, float]] = json.loads(path.read_text()) if path.exists() else {}
    scores: Scores = {}
    for name, (golden, source) in sets.items():
        scores[name] = {}
        legs: LegRuns | None = None  # every leg once per query, shared by the modes
        # The judgements enter the key: an edited qrels file, or judgements set aside for
        # deleted documents, must not reuse metrics computed against other judgements.
        judged = json.dumps(golden.qrels, sort_keys=True)
        for mode in modes:
            key = sha256_text(
                name, mode, str(rerank), ",".join(sorted(golden.queries)), source or "", judged
            )[:16]
            if key not in cache:
                if rerank:  # the cross-encoder reads payloads: the full search path
                    run = run_golden(index, golden, mode, rerank, 100, (source,) if source else ())
                else:
                    legs = legs or run_legs(index, golden, source)
                    run = legs.document_run(mode)
                cache[key] = evaluate(golden.qrels, run)
                path.write_text(json.dumps(cache, indent=2, sort_keys=True))
            scores[name][mode + ("+rerank" if rerank else "")] = cache[key]
    return scores


@dataclass
class GateResult:
    """The verdict of the quality gate with a table for the UI."""

    passed: bool
    detail: str
    table: str


def gate(candidate: Scores, live: Scores | None, settings: QualityGate) -> GateResult:
    """Block below the floor, or when worse than live by more than max_regression."""
    problems: list[str] = []
    for name, modes in candidate.items():
        value = modes.get(settings.mode, {}).get(settings.metric)
        if value is None:
            continue
        if value < settings.floor:
            problems.append(
                f"{name}: {settings.mode} {settings.metric} {value:.4f} < floor {settings.floor}"
            )
        before = (live or {}).get(name, {}).get(settings.mode, {}).get(settings.metric)
        if before is not None and value < before - settings.max_regression:
            problems.append(
                f"{name}: {settings.mode} {settings.metric} {value:.4f} vs live {before:.4f} "
                f"(regression {before - value:.4f} > {settings.max_regression})"
            )
    detail = (
        "; ".join(problems) if problems else "quality holds against the floor and the live version"
    )
    return GateResult(not problems, detail, render_table(candidate, live))


def render_table(candidate: Scores, live: Scores | None) -> str:
    """Markdown: per set and mode, the candidate's metrics and the difference to live."""
    rows = [
        "| set | mode | nDCG@10 | Δ live | Recall@10 | Recall@100 | MRR@10 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, modes in candidate.items():
        for mode, metrics in modes.items():
            before = (live or {}).get(name, {}).get(mode, {}).get("ndcg@10")
            delta = f"{metrics['ndcg@10'] - before:+.4f}" if before is not None else "—"
            rows.append(
                f"| {name} | {mode} | {metrics['ndcg@10']:.4f} | {delta} "
                f"| {metrics['recall@10']:.4f} | {metrics['recall@100']:.4f} "
                f"| {metrics['mrr@10']:.4f} |"
            )
    return "\n".join(rows)
