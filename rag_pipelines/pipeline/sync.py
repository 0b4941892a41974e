"""Stage boundaries with shared state: which prefixes each stage pulls and pushes.

With the default local state every function here is a no-op. With `pipeline.state.url` a
per-source stage owns its shard's folder (`sources/<source>/`, or `sources/<source>/shards/<k>/`
for shard k of a sharded source; only what the stage changed is pushed); corpus-wide stages
read every source's folder and own their version's build folder and Edge shards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rag_pipelines.context import PipelineContext
from rag_pipelines.shards import Shard
from rag_pipelines.state import pull_all, pushed, synced

MODELS_PREFIX = "models/"  # models trained by the pipeline: <data_dir>/models/<name>


def source_prefix(ctx: PipelineContext, source: str) -> str:
    """A source's state prefix ("sources/<source>/")."""
    return ctx.workspace.source_dir(source).relative_to(ctx.workspace.root).as_posix() + "/"


@contextmanager
def shard_synced(ctx: PipelineContext, shard: Shard) -> Iterator[None]:
    """Pull a shard's folder before a per-source stage and push what it changed after.

    An unsharded source's folder is `sources/<source>/`; shard k of a sharded one owns only
    `sources/<source>/shards/<k>/`, so N shard runs pull and push N disjoint prefixes.
    """
    ws = ctx.workspace
    prefix = ws.source_dir(shard.source, shard.folder).relative_to(ws.root).as_posix() + "/"
    with synced(ctx.state.store, [prefix]):
        yield


def pull_sources(ctx: PipelineContext, names: list[str] | None = None) -> None:
    """Bring sources' folders (default: all) into the local cache (snapshot, staleness)."""
    names = names if names is not None else [s.name for s in ctx.config.sources]
    pull_all(ctx.state.store, [source_prefix(ctx, name) for name in names])


def pull_ledgers(ctx: PipelineContext, names: list[str] | None = None) -> bool:
    """Bring only sources' ledgers (default: all) into the local cache, for readers that need
    what each source had and when (status, the golden set's deleted documents); False when
    the store holds no ledger of some source (never ingested anywhere, or not reachable)."""
    store, ws = ctx.state.store, ctx.workspace
    if not store.remote:
        return True
    found = True
    for name in names if names is not None else [s.name for s in ctx.config.sources]:
        for shard in ctx.shards(name):
            key = ws.ledger_path(name, shard.folder).relative_to(ws.root).as_posix()
            found = store.download(key) and found
    return found


def push_new_version(ctx: PipelineContext, version: str) -> None:
    """Upload a new build folder (no manifest yet: an incomplete build to any reader)."""
    ws = ctx.workspace
    ctx.state.store.push(ws.build_dir(version).relative_to(ws.root).as_posix() + "/", {})


@contextmanager
def version_synced(ctx: PipelineContext, version: str) -> Iterator[None]:
    """Pull a version before a corpus-wide stage; push its new or changed files after.

    The pushed prefixes are the version's build folder, the Edge folder, `models/` and the
    generations' BM25 vocabularies (pulled first: a build extends its generation's); only files
    this stage wrote there move: a new shard, a trained reranker or a grown vocabulary, never
    another version's.
    """
    store = ctx.state.store
    if not store.remote:
        yield
        return
    ws = ctx.workspace
    ctx.registry.fetch(version)
    generations = ws.generations_dir.relative_to(ws.root).as_posix() + "/"
    pull_all(store, [generations])
    prefixes = [
        generations,
        ws.build_dir(version).relative_to(ws.root).as_posix() + "/",
        ws.edge_dir.relative_to(ws.root).as_posix() + "/",
        MODELS_PREFIX,  # a reranker trained for this version
    ]
    with pushed(store, prefixes):
        yield
