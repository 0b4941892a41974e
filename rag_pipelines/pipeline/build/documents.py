"""Stage 1: ingest one shard of a source into documents.jsonl (unchanged files are not re-parsed).

An unsharded source is its own one shard. A shard run lists the whole source (cheap next to
parsing) and keeps only the documents whose id hashes to it, so deletes are found per shard.
"""

from __future__ import annotations

from rag_pipelines.context import PipelineContext
from rag_pipelines.faults import crash_point
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.versions import utc_now
from rag_pipelines.ingest.ingestion import IngestReport, Progress, ingest_source
from rag_pipelines.ingest.ledger import LedgerEntry, update_ledger
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.pii import PiiRedactor
from rag_pipelines.ingest.signature import shard_signature, signed_shards, signs_listings
from rag_pipelines.pipeline.build.shard_state import document_order, read_source
from rag_pipelines.shards import Shard
from rag_pipelines.storage import atomic_write_text, iter_jsonl, write_jsonl


def load_documents(ctx: PipelineContext, source: str) -> list[Document]:
    """The stored documents of a source (every shard's)."""
    return read_source(ctx, source, ctx.workspace.documents_path, Document, document_order)


def load_failures(ctx: PipelineContext, source: str) -> list[IngestFailure]:
    """Documents of a source that failed in the last run of their shard."""
    path_of = ctx.workspace.failures_path
    return read_source(ctx, source, path_of, IngestFailure, lambda f: (f.document_id, 0))


def load_ledger(ctx: PipelineContext, source: str) -> list[LedgerEntry]:
    """Every document a source has ever had, with state and times."""
    return read_source(ctx, source, ctx.workspace.ledger_path, LedgerEntry, lambda e: (e.id, 0))


def shard_documents(ctx: PipelineContext, shard: Shard) -> list[Document]:
    """The stored documents of one shard."""
    return list(iter_jsonl(ctx.workspace.documents_path(shard.source, shard.folder), Document))


def shard_ledger(ctx: PipelineContext, shard: Shard) -> list[LedgerEntry]:
    """The ledger of one shard."""
    return list(iter_jsonl(ctx.workspace.ledger_path(shard.source, shard.folder), LedgerEntry))


def ingest(
    ctx: PipelineContext, partition: Shard | str, progress: Progress | None = None
) -> IngestReport:
    """Ingest one shard of a source (a partition key, or a source name when unsharded)."""
    shard = ctx.shard(partition) if isinstance(partition, str) else partition
    ws, source, folder = ctx.workspace, shard.source, shard.folder
    config = ctx.config.source(source)
    # A shard's first run after `shards: 1` became N starts from the unsharded state, so
    # turning sharding on parses nothing again. After N changed, a folder may hold documents
    # that now belong elsewhere: they leave it (their new shard parses them again).
    start = shard if ws.documents_path(source, folder).exists() else Shard(source)
    previous = {d.id: d for d in shard_documents(ctx, start) if shard.holds(d.id)}
    # Taken first: a change during the run shows next. A crawl signs the listing it makes
    # instead, so the site is crawled once per ingest.
    signature = None if signs_listings(config) else shard_signature(config, shard)
    safety = ctx.config.safety_for(config)
    redactor = PiiRedactor(safety.id_patterns) if safety.redact_pii else None
    policy = sha256_text(safety.model_dump_json())[:12] if safety.redact_pii else "off"
    only = shard.holds if shard.count > 1 else None
    report = ingest_source(config, previous, progress, redactor, policy, only)
    if signature is None:
        signature = signed_shards(config, str(report.signature))[shard.index]
    write_jsonl(ws.documents_path(source, folder), report.documents)
    write_jsonl(ws.failures_path(source, folder), report.failures)
    crash_point("documents_written")
    history = [e for e in shard_ledger(ctx, start) if shard.holds(e.id)]
    ledger = update_ledger(history, report, utc_now())
    write_jsonl(ws.ledger_path(source, folder), ledger)
    atomic_write_text(ws.signature_path(source, folder), signature)
    return report


def ingested_signature(ctx: PipelineContext, shard: Shard) -> str | None:
    """The listing signature the shard had when it was last ingested."""
    path = ctx.workspace.signature_path(shard.source, shard.folder)
    return path.read_text(encoding="utf-8").strip() if path.exists() else None
