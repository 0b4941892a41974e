"""Stage 7: the reranker a version serves with — configured, trained, or none.

A trained reranker is judged on held-back queries it never saw; reranking is on by default
only if it beats hybrid retrieval there (or the configuration forces it). A kind other than
the cross-encoder needs no training: it is used as configured, like a configured model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from rag_pipelines.config.models import RerankSettings
from rag_pipelines.config.rerankers import DEFAULT_KIND
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.resolve import bundled_model_path, resolve_model
from rag_pipelines.evaluation.golden import GoldenSet, load_beir
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.evaluation.runs import run_golden
from rag_pipelines.hashing import sha256_bytes, sha256_text
from rag_pipelines.index.layout import RERANKER_RECORD
from rag_pipelines.index.records import RerankerRecord, load_reranker_record
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.open import local_model, reranker_onnx_dir
from rag_pipelines.retrieval.rerankers.base import RerankerSpec, build_reranker
from rag_pipelines.storage import atomic_write_text
from rag_pipelines.training.rerank import RECIPE, mine_pairs, train_cross_encoder

Progress = Callable[[str, int, int], None]


def prepare_reranker(
    ctx: PipelineContext,
    version: str,
    index_factory: Callable[[], VersionIndex],
    progress: Progress | None = None,
) -> RerankerRecord:
    """Decide (and if configured, train and judge) the reranker for a version."""
    build_dir = ctx.registry.build_path(version)
    settings = ctx.config.retrieval.rerank
    settings_key = sha256_text(RECIPE, settings_json(settings))[:16]
    existing = load_reranker_record(build_dir)
    if existing is not None and existing.settings_key == settings_key:
        return existing
    started = time.perf_counter()
    if settings.kind != DEFAULT_KIND:
        ref = settings.model or local_model(ctx, ctx.registry.manifest(version).model_ref)
        record = RerankerRecord(
            status="configured",
            kind=settings.kind,
            model_path=str(resolve_model(ref).path),
            enabled_by_default=settings.enabled is not False,
            note=f"{settings.kind} over {ref}" + ("" if settings.model else " (its own model)"),
        )
    elif settings.model:
        path = str(resolve_model(settings.model).path)
        record = RerankerRecord(
            status="configured",
            model_path=path,
            enabled_by_default=settings.enabled is not False,
            note=f"configured model {settings.model}",
        )
    elif settings.train is not None:
        record = _trained(ctx, index_factory(), progress)
    else:
        record = RerankerRecord(status="disabled", note="no reranker configured or trained")
    record.seconds = round(time.perf_counter() - started, 1)
    record.settings_key = settings_key
    atomic_write_text(build_dir / RERANKER_RECORD, record.model_dump_json(indent=2))
    return record


def settings_json(settings: RerankSettings) -> str:
    """The settings a record is keyed by; the default kind is left out, so records made
    before `kind` existed still match."""
    return settings.model_dump_json(exclude={"kind"} if settings.kind == DEFAULT_KIND else None)


def _trained(
    ctx: PipelineContext, index: VersionIndex, progress: Progress | None
) -> RerankerRecord:
    train = ctx.config.retrieval.rerank.train
    assert train is not None
    golden = load_beir(train.queries, train.qrels, "rerank")
    tune, holdout = golden.split(train.holdout_fraction, train.seed)
    if train.max_queries is not None:
        tune = tune.subset(list(tune.queries)[: train.max_queries], tune.name)
        holdout = holdout.subset(
            list(holdout.queries)[: max(1, train.max_queries // 2)], holdout.name
        )
    base = (
        bundled_model_path()
        if ctx.config.embedding.model.startswith("bundled:")
        else resolve_model(ctx.config.embedding.model, ctx.config.embedding.revision).path
    )
    key = sha256_text(
        RECIPE,
        str(base),
        index.manifest.model.key,
        sha256_bytes(train.qrels.read_bytes()),
        sha256_bytes(train.queries.read_bytes()),
        train.model_dump_json(),
        ",".join(sorted(tune.queries)),
    )[:16]
    output = ctx.workspace.root / "models" / f"reranker-{key}"
    training: dict[str, float] = {}
    status = "reused"
    if not (output / "config.json").exists():
        pairs = mine_pairs(index, tune, train)
        training = train_cross_encoder(
            base,
            pairs,
            train,
            output,
            progress=(lambda s, t: progress("training", s, t)) if progress else None,
        )
        (output / "training.json").write_text(json.dumps(training, indent=2), encoding="utf-8")
        status = "trained"
    elif (output / "training.json").exists():
        training = json.loads((output / "training.json").read_text(encoding="utf-8"))
    index.reranker = build_reranker(
        RerankerSpec(str(output), max_length=train.max_length, onnx_dir=reranker_onnx_dir(ctx))
    )
    holdout_scores = judge(index, holdout, train.source)
    forced = ctx.config.retrieval.rerank.enabled
    helps = holdout_scores["delta_ndcg@10"] > 0.0
    return RerankerRecord(
        status=status,
        model_path=str(output),
        enabled_by_default=forced if forced is not None else helps,
        holdout=holdout_scores,
        training=training,
        note=(
            f"hybrid+rerank vs hybrid on {len(holdout.queries)} held-back queries: "
            f"{holdout_scores['ndcg@10_rerank']:.4f} vs {holdout_scores['ndcg@10_hybrid']:.4f} "
            f"nDCG@10 ({'helps' if helps else 'does not help'}"
            f"{'' if forced is None else '; default forced by config'})"
        ),
    )


def judge(index: VersionIndex, holdout: GoldenSet, source: str | None) -> dict[str, float]:
    """nDCG@10 of hybrid with and without reranking on held-back queries."""
    sources = (source,) if source else ()
    plain = evaluate(holdout.qrels, run_golden(index, holdout, "hybrid", False, 10, sources))
    reranked = evaluate(holdout.qrels, run_golden(index, holdout, "hybrid", True, 10, sources))
    return {
        "queries": float(len(holdout.queries)),
        "ndcg@10_hybrid": plain["ndcg@10"],
        "ndcg@10_rerank": reranked["ndcg@10"],
        "delta_ndcg@10": round(reranked["ndcg@10"] - plain["ndcg@10"], 4),
    }
