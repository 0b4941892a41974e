"""Deleting a document the golden set judges, with a dagster-daemon and its sensors running.

Regression: the candidate lost the deleted document's judged query (nDCG 0.80 vs live 1.00), so
every build failed the blocking quality gate, the deleted document stayed searchable, and the
refresh sensor never retried. Now its judgements are set aside on both versions, the gate
compares the rest, the build publishes, and the check and `status` name the stale entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.launch import daemon_alive
from assets.runs import materialize_pipeline
from rag_pipelines.asset_graph import PUBLISH_JOB, RETRIEVAL_QUALITY
from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.index.manifest import CheckRecord
from tests.dagster.daemon import (
    FINISHED,
    Deployment,
    daemon_log,
    make_deployment,
    running_daemon,
    settled,
    sqlite_instance_yaml,
    wait_until,
)
from tests.dataops.corpus import INITIAL, ORBAX
from tests.dataops.index_state import search_live

pytestmark = pytest.mark.slow
STALE = f"products/{ORBAX.path} → {ORBAX.path}"


def golden_sections(tmp: Path) -> dict[str, Any]:
    """Each product's question judged against its file; the gate blocks any regression."""
    (tmp / "golden").mkdir()
    write_queries(tmp / "golden" / "queries.jsonl", {p.path: p.query for p in INITIAL})
    write_qrels(tmp / "golden" / "qrels.tsv", {p.path: {p.path: 1} for p in INITIAL})
    return {
        "evaluation": {
            "sets": [
                {
                    "name": "products",
                    "queries": str(tmp / "golden" / "queries.jsonl"),
                    "qrels": str(tmp / "golden" / "qrels.tsv"),
                }
            ],
            "modes": ["hybrid"],
            "gate": {"mode": "hybrid", "metric": "ndcg@10", "floor": 0.5},
            "use_feedback": False,
        }
    }


@dataclass
class Deleted:
    """What the daemon did after a judged document was deleted at its source."""

    deployment: Deployment
    first_version: str
    live_version: str
    builds: list[dg.DagsterRunStatus]
    verdict: CheckRecord | None
    check_metadata: dict[str, Any]
    status_text: str
    status_json: dict[str, Any]
    orbax_hits: list[str]
    log: str


def _check_metadata(instance: dg.DagsterInstance, run_ids: list[str]) -> dict[str, Any]:
    """The retrieval_quality evaluation's metadata in the given runs (the last one found)."""
    found: dict[str, Any] = {}
    for run_id in run_ids:
        records = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        for record in records:
            data = record.event_log_entry.dagster_event.event_specific_data  # type: ignore[union-attr]
            if data.check_name == RETRIEVAL_QUALITY:  # type: ignore[union-attr]
                found = {k: getattr(v, "value", v) for k, v in data.metadata.items()}  # type: ignore[union-attr]
    return found


def _cli(deployment: Deployment, *args: str) -> str:
    proc = deployment.cli(*args)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    return out


@pytest.fixture(scope="module")
def deleted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deleted]:
    """Build once with the golden set, start the daemon, delete a judged document, settle."""
    tmp = tmp_path_factory.mktemp("golden-deletion")
    deployment = make_deployment(tmp, sqlite_instance_yaml(), {}, sections=golden_sections(tmp))
    ctx = deployment.ctx
    with deployment.instance() as instance:
        materialize_pipeline(deployment.config, instance)
        first = ctx.registry.live()
        assert first is not None
    with running_daemon(deployment), deployment.instance() as instance:
        try:
            wait_until("a live dagster-daemon", lambda: daemon_alive(instance), 120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{daemon_log(deployment)}") from None
        earlier = {r.run_id for r in instance.get_runs()}
        (deployment.roots[ORBAX.source] / ORBAX.path).unlink()

        def builds() -> list[dg.DagsterRun]:
            return [
                r
                for r in instance.get_runs()
                if r.run_id not in earlier and r.job_name == PUBLISH_JOB
            ]

        def built_and_settled() -> bool:
            return any(r.status in FINISHED for r in builds()) and settled(instance)

        try:
            wait_until("the sensors' build to finish", built_and_settled, 420)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{daemon_log(deployment)}") from None
        runs = builds()
        metadata = _check_metadata(instance, [r.run_id for r in runs])
    pointer = ctx.registry.live()
    assert pointer is not None
    newest = ctx.registry.versions()[-1]
    hits = search_live(ctx, ORBAX.code_word, "bm25", 5).hits
    yield Deleted(
        deployment,
        first.version,
        pointer.version,
        [r.status for r in runs],
        ctx.registry.checks(newest).get(RETRIEVAL_QUALITY),
        metadata,
        _cli(deployment, "status"),
        json.loads(_cli(deployment, "status", "--json")),
        [h.provenance.document_id for h in hits],
        daemon_log(deployment),
    )


def test_the_deletion_is_published(deleted: Deleted) -> None:
    """The sensors' build passed the gate and went live; the document is no longer found."""
    assert deleted.builds and all(s == dg.DagsterRunStatus.SUCCESS for s in deleted.builds), (
        deleted.verdict,
        deleted.log,
    )
    assert deleted.live_version != deleted.first_version
    manifest = deleted.deployment.ctx.registry.live_manifest()
    assert manifest.documents == len(INITIAL) - 1
    assert ORBAX.path not in deleted.orbax_hits


def test_the_check_names_the_stale_judgement(deleted: Deleted) -> None:
    """retrieval_quality passed, comparing the other queries, and said which entry went stale."""
    assert deleted.verdict is not None and deleted.verdict.passed, deleted.verdict
    assert STALE in deleted.verdict.detail
    assert "remove them from the golden set's qrels" in deleted.verdict.detail
    assert deleted.check_metadata["stale_judgements"] == 1
    assert deleted.check_metadata["stale"] == [STALE]
    assert deleted.check_metadata["queries"] == {"products": len(INITIAL) - 1}


def test_status_shows_the_stale_judgement(deleted: Deleted) -> None:
    """`status` (text and JSON) tells the user which golden entry to remove."""
    assert "1 golden judgement(s) set aside" in deleted.status_text
    assert STALE in deleted.status_text
    assert deleted.status_json["stale_judgements"] == [STALE]
