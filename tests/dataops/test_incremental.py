"""Incremental refresh with real components: add, edit, delete and rename files, then re-run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.runs import materialize_pipeline, metadata_of
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.graph_build import chunk_node, doc_node
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.build.documents import load_ledger
from rag_pipelines.retrieval.models import Mode
from tests.dataops.corpus import (
    INITIAL,
    NIMBUS,
    ORBAX,
    SOURCES,
    TUNDRA,
    VELVET,
    ZEPHYR,
    write_config,
    write_corpus,
    write_product,
)
from tests.dataops.index_state import (
    MODES,
    VersionContents,
    assert_consistent,
    read_version,
    search_live,
    search_version,
)

pytestmark = pytest.mark.slow

# File ages (seconds before the run that picks them up): staleness is measured from them.
INITIAL_AGE = 3600.0
ADDED_AGE = 300.0
EDITED_AGE = 200.0
SLACK_S = 90.0  # a run takes seconds; far less than the gaps between the ages above

OLD_WARRANTY = "nine years"
ZEPHYR_EDITED = replace(
    ZEPHYR,
    text=ZEPHYR.text.replace(
        "warranty lasts nine years and covers the heating coil and the lid hinge.",
        "warranty now lasts eleven years and also covers limescale damage. "
        "Claims quote the code word plumtorrent.",
    ),
)
RENAMED_TXT = "lamps/orbax-lamp-v2.txt"  # title is only the file name: not embedded
RENAMED_MD = "nimbus.md"  # title comes from the heading: unchanged by the rename
STEPS = ("initial", "add", "edit", "delete", "rename", "unchanged")


@dataclass
class Step:
    """One re-materialization: its runs and the live pointer right after it."""

    results: list[dg.ExecuteInProcessResult]
    live: dict[str, Any]

    @property
    def version(self) -> str:
        """The version live after this step."""
        return str(self.live["version"])

    def source(self, source: str, asset: str) -> dict[str, object]:
        """Metadata of a per-source asset in this step's run for `source`."""
        return metadata_of(self.results[SOURCES.index(source)], asset)

    def corpus(self, asset: str) -> dict[str, object]:
        """Metadata of a corpus-wide asset in this step."""
        return metadata_of(self.results[-1], asset)


@dataclass
class History:
    """The pipeline after each step, with a store to read every version back."""

    ctx: PipelineContext
    store: VectorStore
    roots: dict[str, Path]
    steps: dict[str, Step]

    def contents(self, step: str) -> VersionContents:
        """What the version live after `step` holds."""
        return read_version(self.ctx, self.steps[step].version, self.store)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Build once, then add, edit, delete, rename and finally change nothing."""
    tmp = tmp_path_factory.mktemp("incremental")
    roots = write_corpus(tmp, age_s=INITIAL_AGE)
    config = write_config(tmp, roots, index={"retention": 10})
    ctx = PipelineContext(config)
    instance = dg.DagsterInstance.ephemeral()
    steps: dict[str, Step] = {}

    def run(step: str) -> None:
        results = materialize_pipeline(config, instance)
        live = json.loads(ctx.workspace.live_pointer.read_text(encoding="utf-8"))
        steps[step] = Step(results, live)

    run("initial")
    write_product(roots, VELVET, age_s=ADDED_AGE)
    run("add")
    write_product(roots, ZEPHYR_EDITED, age_s=EDITED_AGE)
    run("edit")
    (roots["alpha"] / TUNDRA.path).unlink()
    run("delete")
    (roots["alpha"] / "lamps").mkdir()
    (roots["alpha"] / ORBAX.path).rename(roots["alpha"] / RENAMED_TXT)
    (roots["beta"] / NIMBUS.path).rename(roots["beta"] / RENAMED_MD)
    run("rename")
    run("unchanged")
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    yield History(ctx, store, roots, steps)
    store.close()


def _documents(step: Step, source: str) -> tuple[object, ...]:
    meta = step.source(source, "documents")
    return meta["added"], meta["changed"], meta["deleted"], meta["unchanged"], meta["failed"]


def test_initial_build_embeds_every_chunk_once(history: History) -> None:
    step = history.steps["initial"]
    assert _documents(step, "alpha") == (3, 0, 0, 0, 0)
    assert _documents(step, "beta") == (2, 0, 0, 0, 0)
    for source in SOURCES:
        embedded = step.source(source, "embeddings")
        assert embedded["embedded"] == embedded["chunks"] > 0
        assert embedded["reused_from_cache"] == 0
    assert step.corpus("published_index")["switched"] is True


@pytest.mark.parametrize("mode", MODES)
def test_initial_version_finds_each_product_in_every_mode(history: History, mode: Mode) -> None:
    version = history.steps["initial"].version
    for product in INITIAL:
        response = search_version(history.ctx, history.store, version, product.query, mode)
        assert response.hits[0].provenance.document_id == product.path, (mode, product.path)
        assert response.index_version == version


def test_adding_a_file_embeds_only_its_chunks(history: History) -> None:
    step = history.steps["add"]
    assert _documents(step, "alpha") == (1, 0, 0, 3, 0)
    assert _documents(step, "beta") == (0, 0, 0, 2, 0)
    new = history.contents("add").chunks_of("alpha", VELVET.path)
    assert new
    alpha = step.source("alpha", "embeddings")
    assert alpha["embedded"] == len(new)
    assert alpha["reused_from_cache"] == alpha["chunks"] - len(new)
    assert step.source("alpha", "chunks")["documents_rechunked"] == 1
    assert step.source("beta", "embeddings")["embedded"] == 0
    # Chunks of the files that did not change keep their ids.
    assert history.contents("initial").chunk_ids < history.contents("add").chunk_ids
    hits = search_version(history.ctx, history.store, step.version, VELVET.code_word, "bm25").hits
    assert hits[0].provenance.document_id == VELVET.path


def test_editing_one_section_reembeds_only_that_chunk(history: History) -> None:
    step = history.steps["edit"]
    assert _documents(step, "alpha") == (0, 1, 0, 3, 0)
    assert _documents(step, "beta") == (0, 0, 0, 2, 0)
    assert step.source("alpha", "chunks")["documents_rechunked"] == 1
    alpha = step.source("alpha", "embeddings")
    assert alpha["embedded"] == 1  # the warranty section; the overview chunk is cached
    assert alpha["reused_from_cache"] == alpha["chunks"] - 1
    before = history.contents("add")
    after = history.contents("edit")
    old = {c.section[-1]: c.id for c in before.chunks_of("alpha", ZEPHYR.path)}
    new = {c.section[-1]: c.id for c in after.chunks_of("alpha", ZEPHYR.path)}
    assert new["Overview"] == old["Overview"]
    assert new["Warranty"] != old["Warranty"]
    assert old["Warranty"] not in after.dense_ids | after.bm25_ids
    assert not any(OLD_WARRANTY in c.text for c in after.chunks)
    hits = search_version(history.ctx, history.store, step.version, "plumtorrent", "bm25").hits
    assert hits[0].chunk_id == new["Warranty"]


def test_deleting_a_file_removes_it_from_every_index(history: History) -> None:
    step = history.steps["delete"]
    assert _documents(step, "alpha") == (0, 0, 1, 3, 0)
    assert step.source("alpha", "embeddings")["embedded"] == 0
    assert step.source("beta", "embeddings")["embedded"] == 0
    gone = [c.id for c in history.contents("initial").chunks_of("alpha", TUNDRA.path)]
    assert gone
    for later in ("delete", "rename"):
        contents = history.contents(later)
        manifest = history.ctx.registry.manifest(contents.version)
        assert not contents.chunks_of("alpha", TUNDRA.path)
        assert ("alpha", TUNDRA.path) not in contents.document_keys
        assert history.store.retrieve(manifest.collection, gone) == {}
        assert history.store.retrieve(manifest.bm25_collection, gone) == {}
        assert not {chunk_node(c) for c in gone} & set(contents.graph.nodes)
        assert doc_node("alpha", TUNDRA.path) not in contents.graph
        assert not any(TUNDRA.code_word in c.embed_text for c in contents.chunks)


@pytest.mark.parametrize("mode", MODES)
def test_deleted_file_is_not_retrievable_in_any_mode(history: History, mode: Mode) -> None:
    for query in (TUNDRA.query, TUNDRA.code_word):
        responses = [
            search_version(
                history.ctx, history.store, history.steps["delete"].version, query, mode
            ),
            search_live(history.ctx, query, mode),
        ]
        for response in responses:
            assert response.hits or mode == "bm25"  # BM25 has nothing for a vanished word
            for hit in response.hits:
                assert hit.provenance.document_id != TUNDRA.path, (mode, query)
                assert TUNDRA.code_word not in hit.text


def test_ledger_keeps_deleted_and_renamed_files_as_tombstones(history: History) -> None:
    alpha = {e.id: e for e in load_ledger(history.ctx, "alpha")}
    beta = {e.id: e for e in load_ledger(history.ctx, "beta")}
    for entry in (alpha[TUNDRA.path], alpha[ORBAX.path], beta[NIMBUS.path]):
        assert entry.state == "deleted"
        assert entry.deleted_at is not None and entry.deleted_at >= entry.first_seen_at
        assert entry.changed_at == entry.deleted_at
    assert alpha[TUNDRA.path].deleted_at < alpha[ORBAX.path].deleted_at
    assert alpha[ZEPHYR.path].state == "active" and alpha[ZEPHYR.path].deleted_at is None
    assert alpha[ZEPHYR.path].changed_at > alpha[ZEPHYR.path].first_seen_at  # the edit
    assert alpha[RENAMED_TXT].state == beta[RENAMED_MD].state == "active"


def test_renaming_files_embeds_nothing(history: History) -> None:
    step = history.steps["rename"]
    assert _documents(step, "alpha") == (1, 0, 1, 2, 0)
    assert _documents(step, "beta") == (1, 0, 1, 1, 0)
    for source in SOURCES:
        embedded = step.source(source, "embeddings")
        assert embedded["embedded"] == 0
        assert embedded["reused_from_cache"] == embedded["chunks"]
    before = history.contents("delete")
    after = history.contents("rename")
    assert sorted(c.text_hash for c in before.chunks) == sorted(c.text_hash for c in after.chunks)
    for source, old_id, new_id in (
        ("alpha", ORBAX.path, RENAMED_TXT),
        ("beta", NIMBUS.path, RENAMED_MD),
    ):
        old, new = before.chunks_of(source, old_id), after.chunks_of(source, new_id)
        assert [c.embed_text for c in old] == [c.embed_text for c in new]
        assert not {c.id for c in old} & after.chunk_ids
        assert (source, old_id) not in after.document_keys
    titles = {d.id: d.title for d in after.documents}
    assert titles[RENAMED_TXT] == "orbax-lamp-v2"  # shown to users, not embedded
    assert titles[RENAMED_MD] == "Nimbus Umbrella"
    hits = search_live(history.ctx, ORBAX.query, "hybrid", 1).hits
    assert hits[0].provenance.document_id == RENAMED_TXT


@pytest.mark.parametrize("step", STEPS)
def test_every_version_has_unique_chunks_and_no_orphans(history: History, step: str) -> None:
    contents = history.contents(step)
    assert_consistent(contents)
    manifest = history.ctx.registry.manifest(contents.version)
    assert manifest.chunks == manifest.vectors == manifest.bm25_points == manifest.graph_chunks
    assert manifest.chunks == len(contents.chunks)


def test_unchanged_rerun_embeds_nothing_and_keeps_the_live_version(history: History) -> None:
    """Regression guard: a re-run with no change must not re-embed or publish a new version."""
    step = history.steps["unchanged"]
    for source in SOURCES:
        documents = step.source(source, "documents")
        assert documents["unchanged"] == documents["documents"] > 0
        assert step.source(source, "chunks")["documents_rechunked"] == 0
        assert step.source(source, "embeddings")["embedded"] == 0
    snapshot = step.corpus("corpus_snapshot")
    assert snapshot["reused_unchanged_version"] is True
    assert snapshot["index_version"] == history.steps["rename"].version
    assert step.corpus("published_index")["switched"] is False
    assert step.live == history.steps["rename"].live


@pytest.mark.parametrize(
    ("step", "changed", "deleted", "low", "high"),
    [
        ("initial", 5, 0, INITIAL_AGE, INITIAL_AGE + SLACK_S),
        ("add", 1, 0, ADDED_AGE, ADDED_AGE + SLACK_S),  # only the new file counts
        ("edit", 1, 0, EDITED_AGE, EDITED_AGE + SLACK_S),
        ("delete", 0, 1, 0.0, SLACK_S),  # from when the ingest noticed the deletion
        ("rename", 2, 2, 0.0, None),
    ],
)
def test_staleness_is_recorded_in_metadata_and_live_pointer(
    history: History, step: str, changed: int, deleted: int, low: float, high: float | None
) -> None:
    record = history.steps[step]
    published = record.corpus("published_index")
    assert published["switched"] is True
    assert published["index_version"] == record.version
    assert published["staleness"] == record.live["staleness"]
    staleness = record.live["staleness"]
    assert staleness["documents_changed"] == changed
    assert staleness["documents_deleted"] == deleted
    assert published["max_staleness_s"] == staleness["max_staleness_s"] >= low
    assert high is None or staleness["max_staleness_s"] < high
    assert 0 <= staleness["median_staleness_s"] <= staleness["max_staleness_s"]
    previous = STEPS[STEPS.index(step) - 1] if step != "initial" else None
    expected = history.steps[previous].version if previous else ""
    assert published["previous_version"] == expected
