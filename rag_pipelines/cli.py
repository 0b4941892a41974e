"""The `rag-pipelines` command line."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.loader import DEFAULT_SOURCES, SOURCES_ENV
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import ConfigError, RagPipelinesError
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.checks.freshness import source_freshness
from rag_pipelines.retrieval.models import Mode

app = typer.Typer(
    help="Declarative RAG data pipelines on Dagster.", no_args_is_help=True, add_completion=False
)
console = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help=f"sources.yaml to use (default: ${SOURCES_ENV} or ./{DEFAULT_SOURCES})",
    ),
]


class State:
    """Options shared by every command."""

    config_path: Path = Path(DEFAULT_SOURCES)


@app.callback()
def main_options(config: ConfigOption = Path(DEFAULT_SOURCES)) -> None:
    """Global options."""
    State.config_path = config


def _load() -> SourcesFile:
    try:
        return load_sources_file(State.config_path)
    except ConfigError as exc:
        err.print(f"[red]invalid configuration[/red] {exc.path}")
        for problem in exc.problems:
            err.print(f"  - {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def validate() -> None:
    """Check sources.yaml; list every problem with its source and field (exit code 2)."""
    config = _load()
    console.print(
        f"[green]ok[/green] {State.config_path}: pipeline {config.pipeline.name!r}, "
        f"{len(config.sources)} source(s): {', '.join(s.name for s in config.sources)}"
    )


@app.command()
def materialize(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable).")
    ] = None,
    experiments: Annotated[
        bool, typer.Option("--experiments", help="Then run the experiment variants (opt-in).")
    ] = False,
    finetune: Annotated[
        bool, typer.Option("--finetune", help="Then fine-tune the embedding model (opt-in).")
    ] = False,
) -> None:
    """Run the pipeline through Dagster: ingest each source, then build, check and publish."""
    from rag_pipelines import runner

    config = _load()
    ctx = PipelineContext(config)
    names = [s.name for s in config.sources]
    unknown = sorted(set(source or []) - set(names))
    if unknown:
        err.print(f"[red]unknown source(s)[/red] {unknown}; sources are {names}")
        raise typer.Exit(2)
    opt_in = (("experiments",) if experiments else ()) + (
        ("embedding_finetune",) if finetune else ()
    )
    missing = runner.missing_opt_in(opt_in, config)
    if missing:
        err.print(f"[red]not configured[/red]: {'; '.join(missing)}")
        raise typer.Exit(2)
    env = runner.dagster_env(ctx.workspace, State.config_path)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    log = ctx.workspace.logs_dir / f"{stamp}-materialize.log"
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def on_event(event: dict[str, Any]) -> None:
            label = event["label"]
            if event["type"] == "run" and label not in tasks:
                tasks[label] = bar.add_task(f"{label}: queued", total=None)
            elif label in tasks:
                bar.update(tasks[label], description=runner.progress_text(event))

        outcome = runner.execute(runner.plan_runs(source or names, opt_in), env, log, on_event)
    if not outcome.ok:
        err.print(f"[red]run failed[/red]: {outcome.root_cause}", highlight=False, soft_wrap=True)
        ids = ", ".join(f"{k} {v}" for k, v in outcome.run_ids.items())
        err.print(
            f"full log: {outcome.log_path}" + (f" (Dagster runs: {ids})" if ids else ""),
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    _print_status(ctx)
    _print_quarantine(ctx, detailed=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)] = 5,
    mode: Annotated[str, typer.Option("--mode", "-m", help="dense, bm25, graph or hybrid")] = "",
    rerank: Annotated[bool | None, typer.Option("--rerank/--no-rerank")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only these sources.")
    ] = None,
) -> None:
    """Search the published index and print ranked chunks with their provenance."""
    from rag_pipelines.index.vector_store import PayloadFilter
    from rag_pipelines.retrieval.live import LiveIndex

    config = _load()
    chosen = mode or config.retrieval.default_mode
    if chosen not in ("dense", "bm25", "graph", "hybrid"):
        err.print(f"[red]unknown mode[/red] {chosen!r}: use dense, bm25, graph or hybrid")
        raise typer.Exit(2)
    live = LiveIndex(PipelineContext(config))
    try:
        with live.acquire() as index:
            flt = PayloadFilter(sources=tuple(source or ()))
            response = index.search(query, top_k, cast(Mode, chosen), rerank, flt)
    finally:
        live.stop()
    how = response.mode + (" + rerank" if response.reranked else "")
    console.print(
        f"[bold]{query}[/bold]  [dim]{how} · index {response.index_version} · "
        f"{response.model_fingerprint} · {response.took_ms} ms[/dim]"
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
        console.print(f"   {_snippet(hit.text)}", markup=False, highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the published index over HTTP (OpenAPI at /docs)."""
    import uvicorn

    from rag_pipelines.service.app import create_app

    config = _load()
    if workers == 1:
        uvicorn.run(create_app(PipelineContext(config)), host=host, port=port, log_level="info")
        return
    os.environ[SOURCES_ENV] = str(State.config_path.resolve())
    uvicorn.run(
        "rag_pipelines.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@app.command("eval")
def evaluate_cmd(
    version: Annotated[str | None, typer.Option(help="Version (default: published).")] = None,
    compare: Annotated[
        tuple[str, str] | None, typer.Option(help="Diff two versions: --compare A B.")
    ] = None,
    part: Annotated[str, typer.Option(help="all, tune or holdout queries.")] = "all",
    rerank: Annotated[bool, typer.Option(help="Also score hybrid + rerank.")] = False,
) -> None:
    """Per-mode nDCG@10, Recall@10/@100, MRR@10 on the golden sets of sources.yaml."""
    from rag_pipelines.evaluation.quality import evaluate_version, golden_sets, render_table
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.retrieval.open import open_version

    ctx = PipelineContext(_load())
    if part not in ("all", "tune", "holdout"):
        err.print(f"unknown part {part!r}: use all, tune or holdout")
        raise typer.Exit(2)
    use_feedback = ctx.config.evaluation.use_feedback
    feedback = ctx.workspace.feedback_set_dir if use_feedback else None
    sets = golden_sets(ctx.config.evaluation.sets, part, feedback)
    if not sets:
        err.print("no golden sets: add evaluation.sets to sources.yaml (or collect feedback)")
        raise typer.Exit(2)
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    modes = list(ctx.config.evaluation.modes)

    def scores(v: str) -> dict[str, dict[str, dict[str, float]]]:
        index = open_version(ctx, v, store)
        result = evaluate_version(index, ctx.registry.build_path(v), sets, modes)
        if rerank and index.reranker is not None:
            extra = evaluate_version(index, ctx.registry.build_path(v), sets, ["hybrid"], True)
            for name in result:
                result[name].update(extra[name])
        return result

    try:
        if compare:
            base, other = compare
            console.print(f"[bold]{other}[/bold] against [bold]{base}[/bold] ({part} queries)")
            console.print(render_table(scores(other), scores(base)), markup=False)
        else:
            chosen = version or ctx.registry.live_manifest().version
            console.print(f"[bold]{chosen}[/bold] ({part} queries)")
            console.print(render_table(scores(chosen), None), markup=False)
    finally:
        store.close()


@app.command()
def lineage(
    chunk_id: Annotated[str, typer.Argument(help="A chunk id (from a search hit).")],
    version: Annotated[str | None, typer.Option(help="Index version (default: published).")] = None,
) -> None:
    """Show where a chunk came from: document, source version, index version, model."""
    from rag_pipelines.lineage import chunk_lineage

    found = chunk_lineage(PipelineContext(_load()), chunk_id, version)
    console.print_json(found.model_dump_json())


@app.command()
def rollback(
    version: Annotated[
        str | None, typer.Argument(help="Version to make live (default: the previous one).")
    ] = None,
) -> None:
    """Atomically re-point the live index to an earlier kept version."""
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.locks import exclusive
    from rag_pipelines.pipeline.publish import rollback as roll_back

    ctx = PipelineContext(_load())
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    try:
        # A build's garbage collection could otherwise delete the version being re-pointed to.
        with exclusive(ctx.workspace.build_lock, "this pipeline's index"):
            pointer = roll_back(ctx, store, version)
    finally:
        store.close()
    console.print(f"[green]live[/green] {pointer.version} (was {pointer.previous})")


@app.command()
def status(
    quarantine: Annotated[
        bool, typer.Option("--quarantine", "-q", help="List every quarantined document.")
    ] = False,
) -> None:
    """Show the published version, its counts and age, the versions kept, the quarantine."""
    ctx = PipelineContext(_load())
    _print_status(ctx)
    _print_quarantine(ctx, detailed=quarantine)


def _print_quarantine(ctx: PipelineContext, detailed: bool) -> None:
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


def _print_status(ctx: PipelineContext) -> None:
    registry = ctx.registry
    pointer = registry.live()
    if pointer is None:
        console.print("no index published yet — run `rag-pipelines materialize`")
        return
    manifest = registry.manifest(pointer.version)
    age = datetime.now(tz=UTC) - datetime.fromisoformat(manifest.created_at)
    console.print(
        f"[bold]published[/bold] {manifest.version} (built {manifest.created_at}, "
        f"{_age(age.total_seconds())} ago; live since {pointer.published_at})\n"
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
    if pointer.staleness:
        s = pointer.staleness
        console.print(
            f"last publish: {int(s.get('documents_changed', 0))} changed, "
            f"{int(s.get('documents_deleted', 0))} deleted document(s); staleness (change → "
            f"servable) max {s.get('max_staleness_s', 0)} s, "
            f"median {s.get('median_staleness_s', 0)} s"
        )
    now = utc_now()
    for source in ctx.config.sources:
        fresh = source_freshness(ctx, source.name, now)
        mark = "[green]fresh[/green]" if fresh.fresh else "[red]stale[/red]"
        console.print(
            f"source {source.name}: {mark} — last ingest {fresh.last_ingest_at or 'never'} "
            f"({fresh.lag_hours} h ago; max {fresh.max_lag_hours} h)"
        )
    versions = registry.versions()
    console.print(f"versions kept: {', '.join(versions)}")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    if seconds < 172800:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main() -> None:
    """Entry point: typed errors become one readable line and exit code 1."""
    try:
        app()
    except RagPipelinesError as exc:
        err.print(f"[red]error[/red]: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
