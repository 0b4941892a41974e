"""Sharded sources, for real through Dagster: 1 shard and 4 shards (2 runs at once) build the
same index, and an edit re-runs only the shard its document falls in."""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from assets.runs import materialize_corpus, materialize_pipeline, materialize_sources, metadata_of
from rag_pipelines.asset_graph import CORPUS_WIDE, DOCUMENTS, PARTITION_TAG, SOURCE_CHANGE_SENSOR
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.graph_store import load_networkx
from rag_pipelines.index.layout import BM25_ACCESS, BM25_MODEL, GRAPH
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.locks import exclusive
from rag_pipelines.pipeline.build.documents import ingest, load_documents, load_ledger
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
from rag_pipelines.retrieval.open import open_version
from rag_pipelines.shards import shard_of
from tests.dataops.index_state import MODES
from tests.dataops.sharded_corpus import (
    QUERIES,
    SOURCE,
    edit_record,
    materialize_in_process,
    write_beir_corpus,
    write_sharded_config,
)

SHARDS = 4
TOP_K = 10


@dataclass
class Built:
    """Both pipelines over one corpus, ingested and published, and the 4-shard instance."""

    corpus: Path
    one: PipelineContext
    four: PipelineContext
    instance: dg.DagsterInstance


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("shards")
    corpus = write_beir_corpus(tmp / "corpus")
    one = PipelineContext(write_sharded_config(tmp, corpus, 1, "one"))
    four = PipelineContext(write_sharded_config(tmp, corpus, SHARDS, "four"))
    (tmp / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp / "dagster")) as instance:
        materialize_pipeline(one.config, instance)
        keys = four.partition_keys()
        assert keys == [f"{SOURCE}~{k}" for k in range(SHARDS)]
        # Two worker processes, two shard runs at a time, into one instance and one cache.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            home, path = str(tmp / "dagster"), str(tmp / "four.yaml")
            runs = list(
                pool.map(materialize_in_process, [path] * 2, [home] * 2, [keys[::2], keys[1::2]])
            )
        assert runs == [[True, True], [True, True]]
        assert _overlapping(instance, keys), "the shard runs of one source did not run at once"
        materialize_corpus(four.config, instance, CORPUS_WIDE)
        yield Built(corpus, one, four, instance)


def _overlapping(instance: dg.DagsterInstance, keys: list[str]) -> bool:
    """Whether two of the partitions' runs were in progress at the same time."""
    spans = []
    for key in keys:
        for record in instance.get_run_records(dg.RunsFilter(tags={PARTITION_TAG: key})):
            assert record.start_time is not None and record.end_time is not None
            spans.append((record.start_time, record.end_time))
    spans.sort()
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))


def _live(ctx: PipelineContext) -> str:
    pointer = ctx.registry.live()
    assert pointer is not None, "nothing was published"
    return pointer.version


def test_one_and_four_shards_build_the_same_index(built: Built) -> None:
    """Same chunk ids, counts, BM25 statistics, graph and retrieval scores."""
    one, four = built.one, built.four
    v1, v4 = _live(one), _live(four)
    assert {p.name for p in four.workspace.source_dir(SOURCE).glob("shards/*")} == {
        "0",
        "1",
        "2",
        "3",
    }
    chunks1, chunks4 = snapshot_chunks(one, v1), snapshot_chunks(four, v4)
    assert len(chunks1) > 36  # several chunks per document
    assert sorted(c.id for c in chunks1) == sorted(c.id for c in chunks4)
    m1, m4 = one.registry.manifest(v1), four.registry.manifest(v4)
    assert (m1.documents, m1.chunks, m1.content_hash) == (m4.documents, m4.chunks, m4.content_hash)
    assert m1.sources[SOURCE].content_hash == m4.sources[SOURCE].content_hash
    b1, b4 = one.registry.build_path(v1), four.registry.build_path(v4)
    assert (b1 / BM25_MODEL).read_bytes() == (b4 / BM25_MODEL).read_bytes()
    access1, access4 = (
        Bm25AccessStats.load(b1 / BM25_ACCESS),
        Bm25AccessStats.load(b4 / BM25_ACCESS),
    )
    assert access1 is not None and access4 is not None
    assert (access1.documents, access1.df) == (access4.documents, access4.df)
    g1 = load_networkx(one.registry.build_path(v1) / GRAPH)
    g4 = load_networkx(four.registry.build_path(v4) / GRAPH)
    assert dict(g1.nodes(data=True)) == dict(g4.nodes(data=True))
    assert {frozenset(e): d for *e, d in g1.edges(data=True)} == {
        frozenset(e): d for *e, d in g4.edges(data=True)
    }
    # The top 10 of every mode. (Deeper down, a tie that straddles a leg's cut-off is Qdrant's
    # to break: which of the tied chunks makes the cut is not ours to fix.)
    store1 = open_vector_store(one.config.index.qdrant, one.workspace)
    store4 = open_vector_store(four.config.index.qdrant, four.workspace)
    index1, index4 = open_version(one, v1, store1), open_version(four, v4, store4)
    try:
        for query in QUERIES:
            for mode in MODES:
                hits1 = index1.search(query, TOP_K, mode, False).hits
                hits4 = index4.search(query, TOP_K, mode, False).hits
                assert len(hits1) == TOP_K, (query, mode)
                assert [(h.chunk_id, h.score) for h in hits1] == [
                    (h.chunk_id, h.score) for h in hits4
                ], (query, mode)
    finally:
        index1.close()
        index4.close()
        store1.close()
        store4.close()


def test_a_shard_run_does_not_wait_for_another_shard_of_its_source(built: Built) -> None:
    """Shard 1 runs while shard 0's lock is held (a per-source lock would make it wait)."""
    ctx = built.four
    with exclusive(ctx.workspace.source_lock(SOURCE, 0), "the test"):
        (result,) = materialize_sources(ctx.config, built.instance, [f"{SOURCE}~1"])
    assert result.success
    assert (
        metadata_of(result, DOCUMENTS)["unchanged"] == metadata_of(result, DOCUMENTS)["documents"]
    )


def test_an_edit_reruns_only_its_shard(built: Built) -> None:
    """The sensor requests the shards of an edited and a deleted document alone; the other
    shards see no change, and each change is reported by its own shard."""
    ctx = built.four
    edited, shard = "doc10", shard_of("doc10", SHARDS)
    deleted = next(
        f"doc{i * 7 + 3}" for i in range(36) if shard_of(f"doc{i * 7 + 3}", SHARDS) != shard
    )
    gone = shard_of(deleted, SHARDS)
    edit_record(built.corpus, edited, "A new abstract about volcano basalt and magma flows.")
    edit_record(built.corpus, deleted, None)
    defs = build_definitions(ctx.config)
    context = dg.build_sensor_context(instance=built.instance, definitions=defs)
    tick = defs.get_sensor_def(SOURCE_CHANGE_SENSOR).evaluate_tick(context)
    requested = sorted(str(r.partition_key) for r in tick.run_requests or [])
    assert requested == sorted([f"{SOURCE}~{shard}", f"{SOURCE}~{gone}"])
    # The unsharded pipeline over the same corpus re-runs its one partition.
    defs1 = build_definitions(built.one.config)
    context1 = dg.build_sensor_context(instance=built.instance, definitions=defs1)
    tick1 = defs1.get_sensor_def(SOURCE_CHANGE_SENSOR).evaluate_tick(context1)
    assert [r.partition_key for r in tick1.run_requests or []] == [SOURCE]
    results = materialize_sources(ctx.config, built.instance)
    reports = {
        k: metadata_of(r, DOCUMENTS) for k, r in zip(ctx.partition_keys(), results, strict=True)
    }
    for k, report in enumerate(reports.values()):
        expected = (int(k == shard), 0, int(k == gone))
        assert (report["changed"], report["added"], report["deleted"]) == expected, k
    assert sum(int(str(r["documents"])) for r in reports.values()) == 35
    # Every shard is up to date again: the next tick requests nothing.
    context = dg.build_sensor_context(instance=built.instance, definitions=defs)
    assert not defs.get_sensor_def(SOURCE_CHANGE_SENSOR).evaluate_tick(context).run_requests


def test_turning_sharding_on_parses_nothing_again(tmp_path: Path) -> None:
    """The first run of each shard starts from the unsharded state of the same data dir."""
    corpus = write_beir_corpus(tmp_path / "corpus", documents=12)
    one = PipelineContext(write_sharded_config(tmp_path, corpus, 1, "same"))
    assert len(ingest(one, SOURCE).added) == 12
    two = PipelineContext(write_sharded_config(tmp_path, corpus, 2, "same"))
    reports = [ingest(two, key) for key in two.partition_keys()]
    assert [(len(r.added), len(r.deleted)) for r in reports] == [(0, 0), (0, 0)]
    assert sum(len(r.unchanged) for r in reports) == 12
    assert len(load_ledger(two, SOURCE)) == 12
    assert {d.id for d in load_documents(two, SOURCE)} == {
        d.id for d in load_documents(one, SOURCE)
    }
