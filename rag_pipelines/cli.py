"""The `rag-pipelines` command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from rag_pipelines import __version__
from rag_pipelines.cli_output import print_hits, print_quarantine, print_status, status_data
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.loader import DEFAULT_SOURCES, SOURCES_ENV
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import ConfigError, RagPipelinesError, UnknownSourceError
from rag_pipelines.retrieval.models import Mode

app = typer.Typer(
    help="Declarative RAG data pipelines on Dagster.", no_args_is_help=True, add_completion=False
)


def _console(stderr: bool = False) -> Console:
    """A console that, when piped, keeps whole lines (paths, ids) instead of wrapping at 80."""
    stream = sys.stderr if stderr else sys.stdout
    piped = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=10_000 if piped else None, soft_wrap=piped)


console = _console()
err = _console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        envvar=SOURCES_ENV,
        help=f"sources.yaml to use (default: ${SOURCES_ENV} or ./{DEFAULT_SOURCES})",
    ),
]


class State:
    """Options shared by every command."""

    config_path: Path = Path(DEFAULT_SOURCES)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"rag-pipelines {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    config: ConfigOption = Path(DEFAULT_SOURCES),
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Global options."""
    State.config_path = config


def _emit_json(data: object) -> None:
    """JSON on stdout, unstyled, for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _load() -> SourcesFile:
    try:
        return load_sources_file(State.config_path)
    except ConfigError as exc:
        err.print(f"[red]invalid configuration[/red] {exc.path}")
        for problem in exc.problems:
            err.print(f"  - {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command()
def validate(
    allow_download: Annotated[
        bool,
        typer.Option(help="Accept models that are not on this machine (materialize downloads)."),
    ] = False,
) -> None:
    """Check sources.yaml, that its models load offline and that the service's API keys are
    there; list every problem (exit code 2)."""
    from rag_pipelines.embedding.preflight import model_problems
    from rag_pipelines.service.keys import KeyStore

    config = _load()
    problems = model_problems(config)
    auth = config.service.auth
    key_problems = KeyStore.problems(auth) if auth is not None else []
    if (problems and not allow_download) or key_problems:
        err.print(f"[red]invalid configuration[/red] {State.config_path}")
        for problem in key_problems + ([] if allow_download else problems):
            err.print(f"  - {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    for problem in problems:
        err.print(f"[yellow]warning[/yellow] {problem}", highlight=False)
    console.print(
        f"[green]ok[/green] {State.config_path}: pipeline {config.pipeline.name!r}, "
        f"{len(config.sources)} source(s): {', '.join(s.name for s in config.sources)}"
    )


@app.command()
def materialize(
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source", "-s", help="Only this source or shard `<source>~<k>` (repeatable)."
        ),
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
    unknown = sorted(set(source or []) - set(names) - set(ctx.partition_keys()))
    if unknown:
        err.print(f"[red]unknown source(s)[/red] {unknown}; sources are {names}")
        raise typer.Exit(2)
    partitions = ctx.partition_keys(source or None)  # a sharded source: every shard
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

        outcome = runner.execute(runner.plan_runs(partitions, opt_in), env, log, on_event)
    if not outcome.ok:
        ids = ", ".join(f"{k} {v}" for k, v in outcome.run_ids.items())
        runs = f"; Dagster runs: {ids}" if ids else ""
        err.print(
            f"run failed: {outcome.root_cause or 'see the log'} "
            f"(full log: {outcome.log_path}{runs})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1)
    print_status(console, ctx)
    print_quarantine(console, ctx, detailed=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)] = 5,
    mode: Annotated[str, typer.Option("--mode", "-m", help="dense, bm25, graph or hybrid")] = "",
    rerank: Annotated[bool | None, typer.Option("--rerank/--no-rerank")] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only these sources.")
    ] = None,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many hits (paging).")] = 0,
    min_score: Annotated[float | None, typer.Option(help="Drop hits scoring below.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Search the published index and print ranked chunks with their provenance."""
    from rag_pipelines.index.vector_store import PayloadFilter
    from rag_pipelines.retrieval.live import LiveIndex
    from rag_pipelines.retrieval.paging import depth_for, page_of, require_known_sources

    config = _load()
    chosen = mode or config.retrieval.default_mode
    if chosen not in ("dense", "bm25", "graph", "hybrid"):
        err.print(f"[red]unknown mode[/red] {chosen!r}: use dense, bm25, graph or hybrid")
        raise typer.Exit(2)
    live = LiveIndex(PipelineContext(config))
    try:
        with live.acquire() as index:
            require_known_sources(source or (), index.manifest.sources)
            flt = PayloadFilter(sources=tuple(source or ()))
            depth = depth_for(offset, top_k)
            response = index.search(query, depth, cast(Mode, chosen), rerank, flt)
    except UnknownSourceError as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        live.stop()
    response = page_of(response, offset, top_k, min_score)
    if as_json:
        _emit_json(response.model_dump(mode="json"))
    else:
        print_hits(console, response)


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
        # proxy_headers off: service.trusted_proxies alone decides whom X-Forwarded-For names
        # (uvicorn's default trusts it from 127.0.0.1, whatever the configuration says).
        uvicorn.run(
            create_app(PipelineContext(config)),
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
        )
        return
    os.environ[SOURCES_ENV] = str(State.config_path.resolve())
    uvicorn.run(
        "rag_pipelines.service.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface for the UI.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the UI.")] = 3000,
) -> None:
    """Dagster UI + daemon for this pipeline, on the DAGSTER_HOME `materialize` uses; SIGTERM or
    Ctrl-C stops every process it started."""
    from rag_pipelines import dev_server

    ctx = PipelineContext(_load())
    env = dev_server.dev_env(ctx.workspace, State.config_path)
    err.print(
        f"Dagster UI on http://{host}:{port} · DAGSTER_HOME={env['DAGSTER_HOME']}", highlight=False
    )
    raise typer.Exit(dev_server.run_supervised(dev_server.dev_command(host, port), env))


@app.command("eval")
def evaluate_cmd(
    version: Annotated[str | None, typer.Option(help="Version (default: published).")] = None,
    compare: Annotated[
        tuple[str, str] | None, typer.Option(help="Diff two versions: --compare A B.")
    ] = None,
    part: Annotated[str, typer.Option(help="all, tune or holdout queries.")] = "all",
    rerank: Annotated[bool, typer.Option(help="Also score hybrid + rerank.")] = False,
    as_json: JsonOption = False,
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
        if as_json:
            wanted = [*compare] if compare else [version or ctx.registry.live_manifest().version]
            _emit_json({"part": part, "versions": {v: scores(v) for v in wanted}})
        elif compare:
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
def golden(
    out: Annotated[Path, typer.Argument(help="Folder for queries.jsonl and qrels.tsv.")],
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", help="CSV: question,document_ids (ids separated by ';')."),
    ] = None,
    feedback: Annotated[
        bool, typer.Option(help="Include hits judged useful via POST /v1/feedback.")
    ] = True,
    name: Annotated[str, typer.Option(help="The set's name in sources.yaml.")] = "golden",
) -> None:
    """Turn judged questions (a CSV and/or feedback) into a BEIR golden set for the gate."""
    from rag_pipelines.feedback.golden_build import GoldenInputError
    from rag_pipelines.pipeline.golden import build_golden_set

    try:
        written, version = build_golden_set(PipelineContext(_load()), out, csv_path, feedback)
    except GoldenInputError as exc:
        err.print(f"[red]cannot build the golden set[/red]: {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(
        f"[green]wrote[/green] {written.queries} question(s), {written.relevant} relevant "
        f"document(s) (checked against {version}) to {out}\nadd to sources.yaml:",
        highlight=False,
    )
    source = f"\n      source: {written.source}" if written.source else ""
    console.print(
        f"evaluation:\n  sets:\n    - name: {name}\n      queries: {written.queries_path}\n"
        f"      qrels: {written.qrels_path}{source}",
        markup=False,
        highlight=False,
    )


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
    """Atomically re-point the live index to an earlier kept version and pin it there."""
    from rag_pipelines.index.stores import open_vector_store
    from rag_pipelines.locks import exclusive
    from rag_pipelines.pipeline.pin import pin_status
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
    pin = pin_status(ctx, pointer)
    if pin is not None:
        console.print(pin.line(), markup=False, highlight=False)


@app.command()
def unpin() -> None:
    """Release a rollback's pin: the next build that passes its checks is published."""
    from rag_pipelines.pipeline.pin import unpin as release

    pointer = release(PipelineContext(_load()))
    console.print(
        f"[green]unpinned[/green] {pointer.version}: the next build that passes its checks "
        "is published"
    )


@app.command()
def status(
    quarantine: Annotated[
        bool, typer.Option("--quarantine", "-q", help="List every quarantined document.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Show the published version, its counts and age, the versions kept, the quarantine."""
    ctx = PipelineContext(_load())
    if as_json:
        _emit_json(status_data(ctx))
        return
    print_status(console, ctx)
    print_quarantine(console, ctx, detailed=quarantine)


def main() -> None:
    """Entry point: typed errors become one readable line and exit code 1."""
    try:
        app()
    except RagPipelinesError as exc:
        err.print(f"[red]error[/red]: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
