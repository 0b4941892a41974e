"""Gated publishing: a failing blocking check keeps the live version; rollback; retention."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from click.testing import Result
from typer.testing import CliRunner

from assets.runs import materialize_pipeline, metadata_of
from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.cli import app
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.index.manifest import BuildManifest, CheckRecord
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.pipeline.pin import unpin
from rag_pipelines.pipeline.publish import collect_garbage, publish, rollback
from tests.dataops.corpus import (
    INITIAL,
    KRILL,
    NIMBUS,
    TUNDRA,
    VELVET,
    ZEPHYR,
    write_config,
    write_corpus,
    write_product,
)
from tests.dataops.index_state import search_live

pytestmark = pytest.mark.slow

FLOOR = 0.9
GHOST = "ghost-toaster.md"  # judged relevant by the golden set, but in no version
OLD_WARRANTY, NEW_WARRANTY = "nine years", "twelve years"
ZEPHYR_EDITED = replace(ZEPHYR, text=ZEPHYR.text.replace(OLD_WARRANTY, NEW_WARRANTY))
TUNDRA_EDITED = replace(TUNDRA, text=TUNDRA.text.replace("wool", "alpaca wool"))


@dataclass
class Gated:
    """A build whose blocking checks failed, and what it left behind."""

    version: str
    result: dg.ExecuteInProcessResult
    live_before: bytes
    live_after: bytes
    verdicts: dict[str, CheckRecord]
    manifest: BuildManifest
    publish_refused: str

    def check(self, name: str) -> dg.AssetCheckEvaluation:
        """The evaluation of one blocking check in the failed run."""
        (found,) = [e for e in self.result.get_asset_check_evaluations() if e.check_name == name]
        return found


@dataclass
class Rollbacks:
    """What re-pointing the live index did, step by step."""

    by_library: str
    warranty_after_library: str
    by_cli: Result
    warranty_after_cli: str
    refused: Result
    live_after_refusal: bytes
    live_before_refusal: bytes
    pointer_reads: list[str]


@dataclass
class History:
    """Publish v1, v2; fail the quality gate (v3) and on an emptied source (v4); roll back and
    forth; publish v5 (retention 2); finally collect with retention 1 while v2 is live."""

    ctx: PipelineContext
    versions: list[str]
    velvet_hits_while_gated: list[str]
    quality: Gated
    empty: Gated
    rollbacks: Rollbacks
    v5_collected: list[str]
    kept_after_v5: list[str]
    collections_of: dict[str, BuildManifest]
    collections_after_v5: set[str]
    live_for_retention_1: str
    retention_1_collected: list[str]
    kept_after_retention_1: list[str]


def _golden_set(tmp: Path) -> dict[str, Any]:
    """Every product's question with its file, plus one whose document no version holds."""
    queries = {p.path: p.query for p in INITIAL}
    queries["ghost"] = "Which toaster browns bread on both sides?"
    qrels = {p.path: {p.path: 1} for p in INITIAL} | {"ghost": {GHOST: 1}}
    (tmp / "golden").mkdir()
    write_queries(tmp / "golden" / "queries.jsonl", queries)
    write_qrels(tmp / "golden" / "qrels.tsv", qrels)
    return {
        "sets": [
            {
                "name": "products",
                "queries": str(tmp / "golden" / "queries.jsonl"),
                "qrels": str(tmp / "golden" / "qrels.tsv"),
            }
        ],
        "modes": ["hybrid"],
        "gate": {"mode": "hybrid", "metric": "ndcg@10", "floor": FLOOR},
        "use_feedback": False,
    }


def _failing_build(
    ctx: PipelineContext, config: SourcesFile, instance: dg.DagsterInstance
) -> Gated:
    pointer = ctx.workspace.live_pointer
    before = pointer.read_bytes()
    newest = ctx.registry.versions()[-1]
    *_, result = materialize_pipeline(config, instance, raise_on_error=False)
    version = ctx.registry.versions()[-1]
    assert version != newest, "the failing build made no new version"
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    try:
        with pytest.raises(PublishRefusedError) as refused:  # publishing it by hand
            publish(ctx, version, store)
    finally:
        store.close()
    after = pointer.read_bytes()
    verdicts, manifest = ctx.registry.checks(version), ctx.registry.manifest(version)
    return Gated(version, result, before, after, verdicts, manifest, str(refused.value))


def _warranty(ctx: PipelineContext) -> str:
    hits = search_live(ctx, "How long does the Zephyr Kettle warranty last?", "bm25", 1).hits
    return hits[0].text


def _roll_back_and_forth(ctx: PipelineContext, versions: list[str], times: int) -> list[str]:
    """Roll back `times` times between two versions while a reader parses LIVE.json."""
    reads: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            raw = ctx.workspace.live_pointer.read_text(encoding="utf-8")
            try:
                reads.append(str(json.loads(raw)["version"]))
            except (ValueError, KeyError):
                reads.append(f"torn: {raw!r}")

    thread = threading.Thread(target=reader)
    thread.start()
    store = open_vector_store(ctx.config.index.qdrant, ctx.workspace)
    try:
        for i in range(times):
            rollback(ctx, store, versions[i % 2])
    finally:
        done.set()
        thread.join()
        store.close()
    return reads


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The whole sequence, recorded for the tests below."""
    tmp = tmp_path_factory.mktemp("gating")
    roots = write_corpus(tmp)
    config = write_config(tmp, roots, index={"retention": 2})
    strict = write_config(
        tmp,
        roots,
        index={"retention": 2},
        sections={"evaluation": _golden_set(tmp)},
        file_name="strict.yaml",
    )
    keep_one = write_config(tmp, roots, index={"retention": 1}, file_name="keep-one.yaml")
    ctx = PipelineContext(config)
    cli = ["-c", str(tmp / "sources.yaml"), "rollback"]
    with dg.DagsterInstance.ephemeral() as instance:
        materialize_pipeline(config, instance)
        write_product(roots, ZEPHYR_EDITED)
        materialize_pipeline(config, instance)
        v1, v2 = ctx.registry.versions()

        write_product(roots, VELVET)  # new content that must not become servable
        quality = _failing_build(ctx, strict, instance)
        velvet = [
            *search_live(ctx, VELVET.query, "hybrid").hits,
            *search_live(ctx, VELVET.code_word, "bm25").hits,
        ]
        shelved = shutil.move(roots["beta"], tmp / "beta-shelved")
        roots["beta"].mkdir()  # there and empty: every document of beta is deleted
        empty = _failing_build(ctx, config, instance)
        roots["beta"].rmdir()
        shutil.move(shelved, roots["beta"])

        store = open_vector_store(config.index.qdrant, ctx.workspace)
        try:
            by_library = rollback(ctx, store).version  # default: the version live before
        finally:
            store.close()
        warranty_v1 = _warranty(ctx)
        by_cli = CliRunner().invoke(app, [*cli, v2])
        warranty_v2 = _warranty(ctx)
        live_before_refusal = ctx.workspace.live_pointer.read_bytes()
        refused = CliRunner().invoke(app, [*cli, quality.version])
        live_after_refusal = ctx.workspace.live_pointer.read_bytes()
        reads = _roll_back_and_forth(ctx, [v1, v2], 40)  # ends on v2
        rollbacks = Rollbacks(
            by_library,
            warranty_v1,
            by_cli,
            warranty_v2,
            refused,
            live_after_refusal,
            live_before_refusal,
            reads,
        )
        collections_of = {v: ctx.registry.manifest(v) for v in ctx.registry.versions()}

        unpin(ctx)  # the rollbacks pinned v2; the next build is to be published
        write_product(roots, TUNDRA_EDITED)
        *_, published = materialize_pipeline(config, instance)
    collected = str(metadata_of(published, "published_index")["collected_versions"])
    kept_after_v5 = ctx.registry.versions()
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    try:
        collections_after_v5 = set(store.collections())
        try:
            live_for_retention_1 = rollback(ctx, store, v2).version
            retention_1_collected = collect_garbage(PipelineContext(keep_one), store)
        except PublishRefusedError as exc:  # v2 is gone: the retention tests say why
            live_for_retention_1, retention_1_collected = str(exc), []
    finally:
        store.close()
    yield History(
        ctx=ctx,
        versions=[v1, v2, quality.version, empty.version, kept_after_v5[-1]],
        velvet_hits_while_gated=[h.provenance.document_id for h in velvet],
        quality=quality,
        empty=empty,
        rollbacks=rollbacks,
        v5_collected=[] if collected == "none" else collected.split(", "),
        kept_after_v5=kept_after_v5,
        collections_of=collections_of,
        collections_after_v5=collections_after_v5,
        live_for_retention_1=live_for_retention_1,
        retention_1_collected=retention_1_collected,
        kept_after_retention_1=ctx.registry.versions(),
    )


def test_a_failed_quality_gate_leaves_the_live_version_untouched(history: History) -> None:
    gated = history.quality
    assert not gated.result.success
    materialized = {
        e.asset_key.to_user_string() for e in gated.result.get_asset_materialization_events()
    }
    assert "candidate_index" in materialized
    assert "published_index" not in materialized
    assert gated.live_after == gated.live_before
    assert json.loads(gated.live_after)["version"] == history.versions[1]
    assert history.velvet_hits_while_gated  # the live version answers, without the new file
    assert VELVET.path not in history.velvet_hits_while_gated


def test_the_failed_check_explains_why_in_dagster_and_on_disk(history: History) -> None:
    gated = history.quality
    check = gated.check("retrieval_quality")
    assert check.passed is False
    assert check.description is not None
    assert "products: hybrid ndcg@10" in check.description
    assert f"< floor {FLOOR}" in check.description
    table = check.metadata["table"].value
    assert "| products | hybrid |" in str(table)
    assert check.metadata["live_version"].value == history.versions[1]
    for name in ("index_not_empty", "index_counts_agree", "data_quality"):
        assert gated.check(name).passed, name
    assert gated.verdicts["retrieval_quality"].passed is False
    assert gated.verdicts["retrieval_quality"].detail == check.description


def test_an_emptied_source_fails_the_not_empty_check(history: History) -> None:
    gated = history.empty
    assert not gated.result.success
    check = gated.check("index_not_empty")
    assert check.passed is False
    assert check.description == "sources with no chunks: ['beta']"
    assert gated.live_after == gated.live_before
    assert gated.manifest.sources["beta"].chunks == 0
    assert gated.manifest.sources["alpha"].chunks > 0


@pytest.mark.parametrize(
    ("failed", "check"), [("quality", "retrieval_quality"), ("empty", "index_not_empty")]
)
def test_a_failed_version_cannot_be_published_by_hand(
    history: History, failed: str, check: str
) -> None:
    gated = history.quality if failed == "quality" else history.empty
    assert f"check {check} failed: {gated.verdicts[check].detail}" in gated.publish_refused
    assert gated.live_after == gated.live_before


def test_rollback_repoints_to_the_previous_version_and_its_content(history: History) -> None:
    v1, v2 = history.versions[:2]
    done = history.rollbacks
    assert done.by_library == v1
    assert OLD_WARRANTY in done.warranty_after_library
    assert done.by_cli.exit_code == 0, done.by_cli.output
    assert f"live {v2} (was {v1})" in done.by_cli.output
    assert NEW_WARRANTY in done.warranty_after_cli
    rollbacks = [p for p in history.ctx.registry.history() if p.rollback]
    assert [p.version for p in rollbacks[:2]] == [v1, v2]


def test_rollback_refuses_a_version_whose_checks_failed(history: History) -> None:
    done = history.rollbacks
    assert isinstance(done.refused.exception, PublishRefusedError)
    assert "check retrieval_quality failed" in str(done.refused.exception)
    assert done.live_after_refusal == done.live_before_refusal


def test_rollback_switches_the_pointer_atomically(history: History) -> None:
    reads = history.rollbacks.pointer_reads
    assert len(reads) > 40
    assert set(reads) <= set(history.versions[:2]), [r for r in reads if r.startswith("torn")]


def test_retention_keeps_rollback_targets_not_failed_builds(history: History) -> None:
    """Regression: retention counted versions whose checks failed, so two failed builds pushed
    out every earlier good version and left nothing to roll back to."""
    v1, v2, v3, v4, v5 = history.versions
    assert history.v5_collected == [v1, v3]
    assert history.kept_after_v5 == [v2, v4, v5]
    for gone in (v1, v3):
        manifest = history.collections_of[gone]
        assert not history.ctx.registry.build_path(gone).exists()
        assert manifest.collection not in history.collections_after_v5
        assert manifest.bm25_collection not in history.collections_after_v5
    assert history.collections_of[v2].collection in history.collections_after_v5
    assert history.empty.version == v4  # kept among the newest two, though it failed


def test_collection_never_removes_the_live_version(history: History) -> None:
    _, v2, _, v4, v5 = history.versions
    assert history.live_for_retention_1 == v2  # older than the one version retention keeps
    assert history.retention_1_collected == [v4]
    assert history.kept_after_retention_1 == [v2, v5]
    pointer = history.ctx.registry.live()
    assert pointer is not None and pointer.version == v2
    assert search_live(history.ctx, KRILL.query, "dense", 1).index_version == v2
    assert search_live(history.ctx, NIMBUS.query, "dense", 1).hits
