"""Stage: build every declared experiment variant as its own version and evaluate it.

Each variant lives in `<data_dir>/experiments/<name>/` (its own registry, never published, so
the main pipeline's versions, retention and live pointer are untouched). It starts from the
documents the main pipeline parsed, re-chunks and embeds with the same stage functions, and
shares the embedding cache: text a variant chunks like the base is never embedded twice. An
unchanged variant reuses its version and cached scores, so a re-run costs only what changed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.config.models import EmbeddingSettings, ExperimentVariant
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.evaluation.experiments import VariantResult, describe_changes, variant_config
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.evaluation.quality import evaluate_version, gate_part, golden_sets
from rag_pipelines.index.records import load_fusion_record
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.locks import exclusive
from rag_pipelines.pipeline.build.candidate import complete_candidate
from rag_pipelines.pipeline.build.chunks import chunk
from rag_pipelines.pipeline.build.cleanup import remove_incomplete_builds
from rag_pipelines.pipeline.build.embeddings import embed
from rag_pipelines.pipeline.build.indexes import (
    build_bm25_index,
    build_graph_index,
    build_vector_index,
)
from rag_pipelines.pipeline.build.snapshot import snapshot_corpus
from rag_pipelines.pipeline.tuning.fusion_tuning import tune_version
from rag_pipelines.pipeline.tuning.variant_context import VariantContext
from rag_pipelines.retrieval.models import Mode
from rag_pipelines.retrieval.open import open_version
from rag_pipelines.shards import Shard

ModelLoader = Callable[[EmbeddingSettings], SentenceTransformerModel]
Log = Callable[[str], None]
Sets = dict[str, tuple[GoldenSet, str | None]]


class ExperimentError(RagPipelinesError):
    """Experiments cannot run (no golden set, or the sources were never ingested)."""


@dataclass
class ExperimentReport:
    """The live version and every variant, with their scores."""

    live: VariantResult | None
    variants: list[VariantResult]
    modes: list[Mode]
    part: str
    queries: dict[str, int]
    seconds: float

    @property
    def rows(self) -> list[VariantResult]:
        """Live first (the reference), then the variants in declared order."""
        return ([self.live] if self.live else []) + self.variants


def experiments_dir(ctx: PipelineContext) -> Path:
    """Where variants and reports live."""
    return ctx.workspace.root / "experiments"


def run_experiments(
    ctx: PipelineContext, store: VectorStore, load_model: ModelLoader, log: Log | None = None
) -> ExperimentReport:
    """Build and evaluate every variant (and the live version) on the golden sets."""
    started = time.perf_counter()
    settings = ctx.config.evaluation
    # The same queries the retrieval_quality check uses, so the numbers line up with it.
    part = gate_part(ctx.config)
    feedback = ctx.workspace.feedback_set_dir if settings.use_feedback else None
    sets = golden_sets(settings.sets, part, feedback)
    if not sets:
        raise ExperimentError("experiments need a golden set: add evaluation.sets to sources.yaml")
    modes = list(dict.fromkeys([*settings.modes, settings.gate.mode]))
    live = _evaluate_live(ctx, store, sets, modes)
    variants = []
    with exclusive(experiments_dir(ctx) / ".lock", "the experiments"):
        for variant in settings.experiments:
            if log is not None:
                log(f"variant {variant.name}: {describe_changes(variant)}")
            variants.append(build_variant(ctx, variant, load_model, sets, modes))
    return ExperimentReport(
        live,
        variants,
        modes,
        part,
        {name: len(g.queries) for name, (g, _) in sets.items()},
        time.perf_counter() - started,
    )


def build_variant(
    ctx: PipelineContext,
    variant: ExperimentVariant,
    load_model: ModelLoader,
    sets: Sets,
    modes: list[Mode],
) -> VariantResult:
    """One variant: re-chunk, embed (cached), build a version in its folder, evaluate it."""
    started = time.perf_counter()
    config = variant_config(ctx.config, variant, experiments_dir(ctx) / variant.name)
    vctx = VariantContext(config, ctx.workspace.root)
    model = load_model(config.embedding)
    for shard in (s for source in config.sources for s in vctx.shards(source.name)):
        _copy_documents(ctx, vctx, shard)
        chunk(vctx, shard, model.tokenizer)
        embed(vctx, shard, model)
    store = open_vector_store(config.index.qdrant, vctx.workspace)
    try:
        remove_incomplete_builds(vctx, store)
        version = snapshot_corpus(vctx).snapshot.version
        build_vector_index(vctx, version, store)
        build_bm25_index(vctx, version, store)
        build_graph_index(vctx, version)
        manifest = complete_candidate(vctx, version, store.kind).manifest
        index = open_version(vctx, version, store)
        build_dir = vctx.registry.build_path(version)
        if config.evaluation.tune_fusion and load_fusion_record(build_dir) is None:
            tune_version(vctx, version, index)
            index = open_version(vctx, version, store)
        scores = evaluate_version(index, build_dir, sets, modes)
        _prune(vctx, store, version)
    finally:
        store.close()
    return VariantResult(
        variant.name,
        describe_changes(variant),
        version,
        manifest.chunks,
        scores,
        round(time.perf_counter() - started, 1),
    )


def _evaluate_live(
    ctx: PipelineContext, store: VectorStore, sets: Sets, modes: list[Mode]
) -> VariantResult | None:
    pointer = ctx.registry.live()
    if pointer is None:
        return None
    manifest = ctx.registry.manifest(pointer.version)
    index = open_version(ctx, pointer.version, store)
    scores = evaluate_version(index, ctx.registry.build_path(pointer.version), sets, modes)
    return VariantResult("live", "published version", pointer.version, manifest.chunks, scores)


def _copy_documents(ctx: PipelineContext, vctx: PipelineContext, shard: Shard) -> None:
    """The main pipeline's parsed documents (parsing is the same for every variant)."""
    main, target, source, k = ctx.workspace, vctx.workspace, shard.source, shard.folder
    if not main.documents_path(source, k).exists():
        raise ExperimentError(
            f"source {shard.key!r} was never ingested; materialize documents first"
        )
    target.source_dir(source, k).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(main.documents_path(source, k), target.documents_path(source, k))
    if main.failures_path(source, k).exists():
        shutil.copyfile(main.failures_path(source, k), target.failures_path(source, k))
    else:
        target.failures_path(source, k).unlink(missing_ok=True)


def _prune(vctx: PipelineContext, store: VectorStore, keep: str) -> None:
    """Only a variant's newest version is kept: older ones are retired, then removed."""
    registry = vctx.registry
    for old in registry.collectable(retention=1, keep={keep}):
        registry.retire(old)
    remove_incomplete_builds(vctx, store)
