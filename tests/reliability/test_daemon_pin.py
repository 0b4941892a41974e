"""A rollback holds with a dagster-daemon and its sensors running, until `rag-pipelines unpin`.

Regression: after a rollback, the next unrelated edit went through the sensors and published a
new version built from the config the user had rolled away from. Now the rollback pins the
served version: the sensors still build and check, the publish step succeeds without switching
and says why (its metadata, `status`), and after `unpin` the next build publishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pytest

from assets.launch import daemon_alive
from assets.runs import materialize_pipeline
from rag_pipelines.asset_graph import PUBLISH_JOB, PUBLISHED_INDEX
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
from tests.dataops.corpus import NIMBUS, VELVET, write_product
from tests.dataops.index_state import search_live

pytestmark = pytest.mark.slow
EDITED_NIMBUS = NIMBUS.text.replace("two minutes", "one minute")


@dataclass
class Pinned:
    """What the daemon did while the rolled-back version was pinned, and after unpin."""

    deployment: Deployment
    v1: str
    v2: str
    rollback_text: str
    held_build: dg.DagsterRunStatus
    held_live: str
    held_newest: str
    held_metadata: dict[str, Any]
    velvet_while_pinned: list[str]
    status_text: str
    unpin_text: str
    after_unpin_live: str
    after_unpin_newest: str
    velvet_after_unpin: list[str]


def _cli(deployment: Deployment, *args: str) -> str:
    proc = deployment.cli(*args)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    return out


def _publish_metadata(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    records = instance.fetch_materializations(dg.AssetKey(PUBLISHED_INDEX), limit=20).records
    for record in records:
        if record.run_id == run_id:
            meta = record.asset_materialization.metadata  # type: ignore[union-attr]
            return {k: getattr(v, "value", v) for k, v in meta.items()}
    return {}


def _wait_for_build(
    deployment: Deployment, instance: dg.DagsterInstance, earlier: set[str]
) -> dg.DagsterRun:
    """The first build_and_publish run not in `earlier`, once it and every other run ended."""

    def builds() -> list[dg.DagsterRun]:
        return [
            r for r in instance.get_runs() if r.run_id not in earlier and r.job_name == PUBLISH_JOB
        ]

    try:
        wait_until(
            "a build to finish",
            lambda: any(r.status in FINISHED for r in builds()) and settled(instance),
            420,
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{daemon_log(deployment)}") from None
    return builds()[-1]


def _velvet(deployment: Deployment) -> list[str]:
    hits = search_live(deployment.ctx, VELVET.code_word, "bm25", 3).hits
    return [h.provenance.document_id for h in hits]


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pinned]:
    """v1, v2 (an edit); `rollback` to v1; with the daemon, an unrelated edit; then `unpin`."""
    tmp = tmp_path_factory.mktemp("pin")
    deployment = make_deployment(tmp, sqlite_instance_yaml(), {})
    ctx = deployment.ctx
    with deployment.instance() as instance:
        materialize_pipeline(deployment.config, instance)
        (deployment.roots[NIMBUS.source] / NIMBUS.path).write_text(EDITED_NIMBUS, encoding="utf-8")
        materialize_pipeline(deployment.config, instance)
    v1, v2 = ctx.registry.versions()
    rollback_text = _cli(deployment, "rollback")
    with running_daemon(deployment), deployment.instance() as instance:
        try:
            wait_until("a live dagster-daemon", lambda: daemon_alive(instance), 120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{daemon_log(deployment)}") from None
        earlier = {r.run_id for r in instance.get_runs()}
        write_product(deployment.roots, VELVET)  # the unrelated edit
        held = _wait_for_build(deployment, instance, earlier)
        held_metadata = _publish_metadata(instance, held.run_id)
        held_live = ctx.registry.live()
        assert held_live is not None
        held_newest = ctx.registry.versions()[-1]
        velvet_pinned = _velvet(deployment)
        status_text = _cli(deployment, "status")

        unpin = deployment.cli("unpin")
        unpin_text, _ = unpin.communicate(timeout=180)
        earlier = {r.run_id for r in instance.get_runs()}
        launched = deployment.ui_launch(PUBLISH_JOB)
        assert launched.returncode == 0, launched.stdout + launched.stderr
        _wait_for_build(deployment, instance, earlier)
    after = ctx.registry.live()
    assert after is not None
    yield Pinned(
        deployment,
        v1,
        v2,
        rollback_text,
        held.status,
        held_live.version,
        held_newest,
        held_metadata,
        velvet_pinned,
        status_text,
        unpin_text,
        after.version,
        ctx.registry.versions()[-1],
        _velvet(deployment),
    )


def test_rollback_says_it_pins(pinned: Pinned) -> None:
    """The CLI's rollback names the pin and how it ends."""
    assert f"live {pinned.v1} (was {pinned.v2})" in pinned.rollback_text
    assert f"pinned to {pinned.v1}" in pinned.rollback_text
    assert "rag-pipelines unpin" in pinned.rollback_text


def test_the_sensors_build_but_do_not_publish_past_the_pin(pinned: Pinned) -> None:
    """The edit was built into a new version by a successful run; v1 stayed live."""
    assert pinned.held_build == dg.DagsterRunStatus.SUCCESS, pinned.held_metadata
    assert pinned.held_newest not in (pinned.v1, pinned.v2)
    assert pinned.held_live == pinned.v1
    assert VELVET.path not in pinned.velvet_while_pinned


def test_the_publish_step_and_status_show_the_pin(pinned: Pinned) -> None:
    """published_index's metadata (the UI) and `status` say the version is pinned, and why."""
    meta = pinned.held_metadata
    assert meta["switched"] is False
    assert meta["index_version"] == pinned.v1
    assert meta["candidate_version"] == pinned.held_newest
    assert str(meta["pinned"]).startswith(f"pinned to {pinned.v1} by a rollback")
    assert f"pinned to {pinned.v1} by a rollback" in pinned.status_text
    assert "rag-pipelines unpin" in pinned.status_text


def test_after_unpin_the_next_build_publishes(pinned: Pinned) -> None:
    """`unpin`, then a launched build: the newest version goes live with the edit."""
    assert f"unpinned {pinned.v1}" in pinned.unpin_text
    assert pinned.after_unpin_live == pinned.after_unpin_newest != pinned.v1
    assert VELVET.path in pinned.velvet_after_unpin
