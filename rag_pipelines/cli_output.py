"""What the CLI prints: search hits, the published version's status, the quarantine."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rag_pipelines.context import PipelineContext
from rag_pipelines.index.manifest import LivePointer
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.checks.freshness import source_freshness
from rag_pipelines.pipeline.sync import pull_ledgers
from rag_pipelines.retrieval.models import SearchResponse

SCORES = {
    "dense": "cosine similarity",
    "bm25": "BM25",
    "graph": "graph walk probability",
    "hybrid": "RRF: sum of weight/(k + rank) over the legs",
}


def print_hits(console: Console, response: SearchResponse) -> None:
    """A header line, then each hit: rank, score, source, title, section, legs, snippet."""
    how = response.mode + (" + rerank" if response.reranked else "")
    scale = "cross-encoder score" if response.reranked else SCORES[response.mode]
    console.print(
        f"[bold]{response.query}[/bold]  [dim]{how} · index {response.index_version} · "
        f"{response.model_fingerprint} · {response.took_ms} ms · score = {scale}[/dim]"
    )
    for hit in response.hits:
        p = hit.provenance
        pages = f" · p.{','.join(map(str, p.pages))}" if p.pages else ""
        path = p.section[1:] if p.section[:1] == [p.title] else p.section
        section = f" › {' › '.join(path)}" if path else ""
        legs = " ".join(f"{leg}#{rank}" for leg, rank in hit.ranks.items())
        console.print(
            f"\n[bold]{hit.rank}.[/bold] [cyan]{hit.score:.3f}[/cyan]  {p.source} · "
            f"[bold]{p.title}[/bold]{section}  [dim]({p.document_id}{pages}; {legs})[/dim]",
            highlight=False,
        )
        console.print(f"   {snippet(hit.text)}", markup=False, highlight=False)
    if response.next_offset is not None:
        console.print(f"\n[dim]more: --offset {response.next_offset}[/dim]")


def status_data(ctx: PipelineContext) -> dict[str, Any]:
    """The published version, its sources, their freshness and the versions kept, as data."""
    from rag_pipelines.pipeline.checks.golden_deletions import stale_judgements
    from rag_pipelines.pipeline.checks.quarantine import load_quarantine
    from rag_pipelines.pipeline.pin import pin_status

    pull_ledgers(ctx)
    registry = ctx.registry
    pointer = registry.live()
    now = utc_now()
    data: dict[str, Any] = {
        "published": None,
        "freshness": {
            s.name: asdict(source_freshness(ctx, s.name, now)) for s in ctx.config.sources
        },
        "versions": registry.versions(),
        "quarantine": [e.model_dump(mode="json") for e in load_quarantine(ctx)],
    }
    if pointer is not None:
        manifest = registry.manifest(pointer.version)
        data["published"] = {
            "version": manifest.version,
            "created_at": manifest.created_at,
            "published_at": pointer.published_at,
            "previous": pointer.previous,
            "model": manifest.model.key,
            "store": manifest.store_kind,
            "collection": manifest.collection,
            "documents": manifest.documents,
            "chunks": manifest.chunks,
            "vectors": manifest.vectors,
            "sources": {n: s.model_dump(mode="json") for n, s in manifest.sources.items()},
            "staleness": pointer.staleness,
        }
        data["stale_judgements"] = [s.label() for s in stale_judgements(ctx, pointer.version)]
        pin = pin_status(ctx, pointer)
        data["pin"] = (
            None
            if pin is None
            else {**pin.pin.model_dump(mode="json"), "holds": pin.holds, "text": pin.line()}
        )
    return data


def print_quarantine(console: Console, ctx: PipelineContext, detailed: bool) -> None:
    """One line, or with `detailed` a table of every quarantined document."""
    from rag_pipelines.pipeline.checks.quarantine import load_quarantine

    entries = load_quarantine(ctx)
    if not entries:
        console.print("quarantine: empty")
        return
    if not detailed:
        console.print(
            f"quarantine: {len(entries)} document(s) fail to ingest — "
            "`rag-pipelines status --quarantine` lists them"
        )
        return
    table = Table("source", "document", "error", "reason", "first seen", "last tried", "serving")
    for e in entries:
        table.add_row(
            e.source,
            e.path,
            e.error_type,
            e.reason,
            e.first_seen_at[:19],
            e.last_tried_at[:19],
            "last good" if e.serving_previous else "nothing",
        )
    console.print(f"quarantine: {len(entries)} document(s)")
    console.print(table)


def print_status(console: Console, ctx: PipelineContext) -> None:
    """The published version, its counts and age, per-source freshness, versions kept."""
    registry = ctx.registry
    pointer = registry.live()
    if pointer is None:
        console.print("no index published yet — run `rag-pipelines materialize`")
        print_freshness(console, ctx)
        return
    manifest = registry.manifest(pointer.version)
    built_ago = datetime.now(tz=UTC) - datetime.fromisoformat(manifest.created_at)
    console.print(
        f"[bold]published[/bold] {manifest.version} (built {manifest.created_at}, "
        f"{age(built_ago.total_seconds())} ago; live since {pointer.published_at})\n"
        f"model {manifest.model.key} · store {manifest.store_kind} · "
        f"collection {manifest.collection}\n"
        f"{manifest.documents} documents · {manifest.chunks} chunks · {manifest.vectors} vectors"
    )
    table = Table("source", "documents", "chunks", "failed", "content hash")
    for name, summary in manifest.sources.items():
        table.add_row(
            name,
            str(summary.documents),
            str(summary.chunks),
            str(summary.failures),
            summary.content_hash[:12],
        )
    console.print(table)
    print_pin(console, ctx, pointer)
    if pointer.staleness:
        s = pointer.staleness
        console.print(
            f"last publish: {int(s.get('documents_changed', 0))} changed, "
            f"{int(s.get('documents_deleted', 0))} deleted document(s); staleness (change → "
            f"servable) max {s.get('max_staleness_s', 0)} s, "
            f"median {s.get('median_staleness_s', 0)} s"
        )
    print_freshness(console, ctx)
    versions = registry.versions()
    console.print(f"versions kept: {', '.join(versions)}")
    print_stale_judgements(console, ctx, pointer.version)


def print_freshness(console: Console, ctx: PipelineContext) -> None:
    """One line per source: fresh or stale, from the ledgers (the shared state's, if remote)."""
    pull_ledgers(ctx)
    now = utc_now()
    for source in ctx.config.sources:
        fresh = source_freshness(ctx, source.name, now)
        mark = "[green]fresh[/green]" if fresh.fresh else "[red]stale[/red]"
        console.print(
            f"source {source.name}: {mark} — last ingest {fresh.last_ingest_at or 'never'} "
            f"({fresh.lag_hours} h ago; max {fresh.max_lag_hours} h)"
        )


def print_pin(console: Console, ctx: PipelineContext, pointer: LivePointer) -> None:
    """The rollback's pin on the live version, if any, and whether it still holds."""
    from rag_pipelines.pipeline.pin import pin_status

    pin = pin_status(ctx, pointer)
    if pin is not None:
        style = "yellow" if pin.holds else "dim"
        console.print(f"[{style}]{escape(pin.line())}[/{style}]", highlight=False)


def print_stale_judgements(console: Console, ctx: PipelineContext, version: str) -> None:
    """The golden judgements the quality gate sets aside: their documents were deleted."""
    from rag_pipelines.pipeline.checks.golden_deletions import describe, stale_judgements

    stale = stale_judgements(ctx, version)
    if stale:
        console.print(f"golden set: {describe(stale)}", markup=False, highlight=False)


def age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
