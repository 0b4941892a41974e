"""SIGKILL a real materialization or publish at each fault point: the live version keeps
serving, no half-built version is visible, and the next run completes and cleans up."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.pipeline.build.documents import load_ledger
from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
from rag_pipelines.pipeline.publish import rollback
from rag_pipelines.runner import command, dagster_env, plan_runs
from tests.reliability.conftest import Built
from tests.reliability.corpus import ADDED, QUERY_ADDED, QUERY_BASELINE, SOURCE
from tests.reliability.pipeline import (
    Paused,
    Pipeline,
    assert_intact,
    copy_pipeline,
    live_search,
    shard_versions,
    start_paused,
)


def assert_serving(ctx: PipelineContext, version: str) -> None:
    """The live index answers from `version`, and that version is whole."""
    query, expected = QUERY_BASELINE
    served, documents = live_search(ctx, query)
    assert served == version
    assert documents[0] == expected
    assert_intact(ctx, version)


def assert_serving_added(ctx: PipelineContext) -> str:
    """The live index answers from a version holding the added file; that version."""
    query, expected = QUERY_ADDED
    served, documents = live_search(ctx, query)
    assert documents[0] == expected
    assert_intact(ctx, served)
    return served


def crash(pipeline: Pipeline, target: str, point: str, via_cli: bool = False) -> Paused:
    """Run `target` to `point`, check the live index while it is paused there, then SIGKILL it."""
    if via_cli:  # the exact launcher subprocess (python -m assets.launch) `rag-pipelines` runs
        spec = plan_runs([SOURCE])[-1]
        env = dagster_env(pipeline.ctx.workspace, pipeline.sources_path)
        paused = start_paused(pipeline, target, point, command(spec), env)
    else:
        paused = start_paused(pipeline, target, point)
    assert_serving(pipeline.ctx, pipeline_live(pipeline))
    paused.kill()
    return paused


def pipeline_live(pipeline: Pipeline) -> str:
    """The version LIVE.json names."""
    pointer = pipeline.ctx.registry.live()
    assert pointer is not None
    return pointer.version


@pytest.fixture
def changed(built: Built, tmp_path: Path) -> Pipeline:
    """A copy of the built pipeline with a file added to its source."""
    pipeline = copy_pipeline(built.tmp, tmp_path)
    pipeline.write(*ADDED)
    return pipeline


def test_killed_source_run(built: Built, changed: Pipeline) -> None:
    """A source run killed mid-way leaves the live version serving; the next run catches up."""
    crash(changed, SOURCE, "documents_written")
    ctx = changed.ctx
    assert_serving(ctx, built.version)
    assert ctx.registry.versions() == [built.version]
    changed.materialize()
    new = assert_serving_added(ctx)
    assert new != built.version
    ledger = {e.id: e.state for e in load_ledger(ctx, SOURCE)}
    assert ledger[ADDED[0]] == "active"


@pytest.mark.parametrize(
    ("point", "via_cli"),
    [("snapshot_written", False), ("vector_index_partial", True)],
)
def test_killed_build_is_invisible_and_removed(
    built: Built, changed: Pipeline, point: str, via_cli: bool
) -> None:
    """A build killed before its manifest is never a version; the next run deletes it."""
    changed.run(SOURCE)
    crash(changed, "corpus", point, via_cli)
    ctx, registry = changed.ctx, changed.ctx.registry
    [partial] = registry.incomplete()
    assert registry.versions() == [built.version]
    assert_serving(ctx, built.version)
    if point != "snapshot_written":
        assert partial in shard_versions(ctx)  # a half-written Qdrant shard is on disk

    changed.materialize()
    new = assert_serving_added(ctx)
    assert registry.incomplete() == []
    assert not registry.build_path(partial).exists()
    assert shard_versions(ctx) == set(registry.versions()) == {built.version, new}


def test_killed_before_the_checks(built: Built, changed: Pipeline) -> None:
    """A version completed but killed before its checks is never served; the next run checks
    and publishes that same version instead of building another."""
    changed.run(SOURCE)
    crash(changed, "corpus", "manifest_written")
    ctx, registry = changed.ctx, changed.ctx.registry
    [old, new] = registry.versions()
    assert old == built.version
    assert_serving(ctx, built.version)
    with pytest.raises(PublishRefusedError, match="has not run"):
        registry.ensure_publishable(new, BLOCKING_CHECKS)

    changed.materialize()
    assert assert_serving_added(ctx) == new
    assert registry.versions() == [old, new]


def test_killed_after_the_switch(built: Built, changed: Pipeline) -> None:
    """Killed right after LIVE.json moved, the new, checked version serves; re-runs are calm."""
    changed.run(SOURCE)
    crash(changed, "corpus", "publish_after_switch")
    ctx = changed.ctx
    new = assert_serving_added(ctx)
    assert all(r.passed for r in ctx.registry.checks(new).values())
    changed.materialize()
    assert assert_serving_added(ctx) == new


def test_killed_garbage_collection(built: Built, tmp_path: Path) -> None:
    """Regression: a publish killed after dropping an old version's collections left it listed
    as a complete version, offered for rollback with no index behind it."""
    pipeline = copy_pipeline(built.tmp, tmp_path, index={"retention": 1})
    pipeline.write(*ADDED)
    pipeline.run(SOURCE)
    crash(pipeline, "corpus", "gc_partial")
    ctx, registry = pipeline.ctx, pipeline.ctx.registry
    new = assert_serving_added(ctx)
    assert registry.versions() == [new]
    assert registry.incomplete() == [built.version]
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    try:
        with pytest.raises(PublishRefusedError, match="not kept"):
            rollback(ctx, store, built.version)
    finally:
        store.close()

    pipeline.materialize()
    assert registry.incomplete() == []
    assert not registry.build_path(built.version).exists()
    assert shard_versions(ctx) == {new}
    assert assert_serving_added(ctx) == new
