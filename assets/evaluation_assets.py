"""Opt-in evaluation assets: experiments (variants compared) and embedding fine-tuning.

Each exists only when sources.yaml asks for it (`evaluation.experiments`, `embedding.finetune`),
so the default graph and the build-and-publish job are unchanged; neither is in that job, as
both cost minutes to hours and are run on purpose (UI or `dagster asset materialize`).
"""

import dagster as dg

from assets.metadata import embedded_png, recent_feedback, seconds
from assets.resources import EmbeddingModelResource, VectorStoreResource
from rag_pipelines.asset_graph import (
    DOCUMENTS,
    EMBEDDING_FINETUNE,
    EMBEDDINGS,
    EXPERIMENTS,
    FEEDBACK,
    GROUP_EMBEDDINGS,
    GROUP_EVALUATION,
    PUBLISHED_INDEX,
)
from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.pipeline.tuning.experiment_report import write_report
from rag_pipelines.pipeline.tuning.experiments import run_experiments
from rag_pipelines.pipeline.tuning.feedback import collect_feedback
from rag_pipelines.pipeline.tuning.finetune import finetune_embedding
from rag_pipelines.retrieval.open import open_version


def build_feedback_asset(ctx: PipelineContext) -> dg.AssetsDefinition:
    """Judgements from the service as a golden set (an input of the retrieval-quality check)."""

    @dg.asset(name=FEEDBACK, group_name=GROUP_EVALUATION, kinds={"sqlite"})
    def feedback() -> dg.MaterializeResult:
        """Feedback from the service (useful / not useful hits), as a golden set for the checks."""
        report = collect_feedback(ctx)
        return dg.MaterializeResult(
            metadata={
                "judgements": report.golden.judgements,
                "useful": report.useful,
                "not_useful": report.not_useful,
                "golden_queries": report.golden.queries,
                "golden_relevant_pairs": report.golden.relevant,
                **recent_feedback(report.recent),
            }
        )

    return feedback


def build_evaluation_assets(ctx: PipelineContext) -> list[dg.AssetsDefinition]:
    """The configured opt-in assets (none by default)."""
    assets = []
    if ctx.config.evaluation.experiments:
        assets.append(_experiments_asset(ctx))
    if ctx.config.embedding.finetune is not None:
        assets.append(_finetune_asset(ctx))
    return assets


def _load_model(settings: EmbeddingSettings) -> SentenceTransformerModel:
    """A variant's model, shared with every run in this process that uses the same settings."""
    return EmbeddingModelResource.from_settings(settings).get()


def _experiments_asset(ctx: PipelineContext) -> dg.AssetsDefinition:
    @dg.asset(
        name=EXPERIMENTS,
        group_name=GROUP_EVALUATION,
        deps=[DOCUMENTS, PUBLISHED_INDEX],
        kinds={"python"},
    )
    def experiments(
        context: dg.AssetExecutionContext, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """Each declared variant built as its own version and compared on the golden sets."""
        report = run_experiments(ctx, vector_store.get(), _load_model, context.log.info)
        files = write_report(ctx, report)
        return dg.MaterializeResult(
            metadata={
                "comparison": dg.MetadataValue.md(files.markdown),
                "plot": dg.MetadataValue.path(str(files.png_path)),
                "plot_image": embedded_png(files.png_path),
                "report": dg.MetadataValue.path(str(files.markdown_path)),
                "variants": len(report.variants),
                "versions": dg.MetadataValue.json({r.name: r.version for r in report.rows}),
                "scores": dg.MetadataValue.json({r.name: r.scores for r in report.rows}),
                "part": report.part,
                "seconds": seconds(report.seconds),
            }
        )

    return experiments


def _finetune_asset(ctx: PipelineContext) -> dg.AssetsDefinition:
    @dg.asset(
        name=EMBEDDING_FINETUNE, group_name=GROUP_EMBEDDINGS, deps=[EMBEDDINGS], kinds={"pytorch"}
    )
    def embedding_finetune(
        context: dg.AssetExecutionContext, vector_store: VectorStoreResource
    ) -> dg.MaterializeResult:
        """The embedding model fine-tuned on judged pairs, judged on held-back queries."""
        report = finetune_embedding(
            ctx,
            lambda done, total: (
                context.log.info(f"step {done}/{total}")
                if done == total or done % 20 == 0
                else None
            ),
            lambda: open_version(ctx, ctx.registry.live_manifest().version, vector_store.get()),
        )
        record = report.record
        base, tuned = record.holdout.get("base", {}), record.holdout.get("finetuned", {})
        return dg.MaterializeResult(
            metadata={
                "model_path": dg.MetadataValue.path(record.model_path),
                "model_fingerprint": record.fingerprint,
                "base_fingerprint": record.base_fingerprint,
                "reused": report.reused,
                "train_queries": record.train_queries,
                "train_pairs": record.train_pairs,
                "holdout_queries": record.holdout_queries,
                "holdout_dense_ndcg@10_base": base.get("ndcg@10", 0.0),
                "holdout_dense_ndcg@10_finetuned": tuned.get("ndcg@10", 0.0),
                "holdout": dg.MetadataValue.json(record.holdout),
                "training": dg.MetadataValue.json(record.training),
                "next_step": (
                    f"to serve it, set embedding.model: {record.model_path}; the model-version "
                    "sensor then builds a new version, published only if its checks pass"
                ),
                "seconds": seconds(report.seconds),
            }
        )

    return embedding_finetune
