"""Stage 1: ingest one source into documents.jsonl (unchanged files are not re-parsed)."""

from __future__ import annotations

from rag_pipelines.context import PipelineContext
from rag_pipelines.faults import crash_point
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.versions import utc_now
from rag_pipelines.ingest.ingestion import IngestReport, Progress, ingest_source
from rag_pipelines.ingest.ledger import LedgerEntry, update_ledger
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.pii import PiiRedactor
from rag_pipelines.ingest.signature import listing_signature
from rag_pipelines.storage import atomic_write_text, iter_jsonl, write_jsonl


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
    signature = listing_signature(config)  # taken first: a change during the run shows next time
    safety = ctx.config.safety_for(config)
    redactor = PiiRedactor(safety.id_patterns) if safety.redact_pii else None
    policy = sha256_text(safety.model_dump_json())[:12] if safety.redact_pii else "off"
    report = ingest_source(config, previous, progress, redactor, policy)
    write_jsonl(ctx.workspace.documents_path(source), report.documents)
    write_jsonl(ctx.workspace.failures_path(source), report.failures)
    crash_point("documents_written")
    ledger = update_ledger(load_ledger(ctx, source), report, utc_now())
    write_jsonl(ctx.workspace.ledger_path(source), ledger)
    atomic_write_text(ctx.workspace.signature_path(source), signature)
    return report


def ingested_signature(ctx: PipelineContext, source: str) -> str | None:
    """The listing signature the source had when it was last ingested."""
    path = ctx.workspace.signature_path(source)
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def load_ledger(ctx: PipelineContext, source: str) -> list[LedgerEntry]:
    """Every document a source has ever had, with state and times."""
    return list(iter_jsonl(ctx.workspace.ledger_path(source), LedgerEntry))
