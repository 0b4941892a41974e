"""Stage 1: ingest one source into documents.jsonl (unchanged files are not re-parsed)."""

from __future__ import annotations

from rag_pipelines.ingest.ingestion import IngestReport, Progress, ingest_source
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.pipeline.context import PipelineContext
from rag_pipelines.storage import iter_jsonl, write_jsonl


def load_documents(ctx: PipelineContext, source: str) -> list[Document]:
    """The stored documents of a source."""
    return list(iter_jsonl(ctx.workspace.documents_path(source), Document))


def load_failures(ctx: PipelineContext, source: str) -> list[IngestFailure]:
    """Documents of a source that failed in the last run."""
    return list(iter_jsonl(ctx.workspace.failures_path(source), IngestFailure))


def ingest(ctx: PipelineContext, source: str, progress: Progress | None = None) -> IngestReport:
    """Ingest a source and store its documents and failures."""
    config = ctx.config.source(source)
    previous = {d.id: d for d in load_documents(ctx, source)}
    report = ingest_source(config, previous, progress)
    write_jsonl(ctx.workspace.documents_path(source), report.documents)
    write_jsonl(ctx.workspace.failures_path(source), report.failures)
    return report
