"""Edits to sources.yaml while a real dagster-daemon runs, with no "Reload definitions".

Regression: the code location read sources.yaml once, so a model change sat unnoticed until
someone reloaded it. Now each sensor tick re-reads the file: a model change is acted on at
once, and a change only a reload can apply (a source added) is reported on every tick.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from assets.launch import daemon_alive
from assets.runs import materialize_pipeline
from rag_pipelines.asset_graph import (
    INDEX_REFRESH_SENSOR,
    MODEL_VERSION_SENSOR,
    SOURCE_CHANGE_SENSOR,
    TRIGGER_TAG,
)
from tests.dagster.daemon import (
    daemon_log,
    make_deployment,
    running_daemon,
    sensor_ticks,
    sqlite_instance_yaml,
    wait_until,
)

pytestmark = pytest.mark.slow


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def _skips_since(instance: object, name: str, since: float) -> list[str]:
    return [
        t.skip_reason or ""
        for t in sensor_ticks(instance, name)  # type: ignore[arg-type]
        if t.timestamp > since
    ]


def _model_change_partitions(instance: object) -> list[str]:
    runs = instance.get_runs()  # type: ignore[attr-defined]
    return sorted(
        r.tags["dagster/partition"] for r in runs if r.tags.get(TRIGGER_TAG) == "model-change"
    )


def test_sensors_act_on_sources_yaml_as_it_is_now(tmp_path: Path) -> None:
    """A model change is re-embedded and an added source is reported, both without a reload."""
    deployment = make_deployment(tmp_path, sqlite_instance_yaml(), {}, model_sensor_s=5)
    with deployment.instance() as instance:
        materialize_pipeline(deployment.config, instance)
    gamma = tmp_path / "corpus" / "gamma"
    gamma.mkdir()
    (gamma / "note.md").write_text("# Gamma\n\nA third source.\n", encoding="utf-8")
    with running_daemon(deployment), deployment.instance() as instance:
        try:
            wait_until("a live dagster-daemon", lambda: daemon_alive(instance), 120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{daemon_log(deployment)}") from None

        earlier = {r.run_id for r in instance.get_runs()}
        # A source added: the asset graph changed, so every sensor says a reload is needed.
        _edit(
            deployment.sources_path,
            lambda d: d["sources"].append(
                {"name": "gamma", "connector": {"type": "filesystem", "root": str(gamma)}}
            ),
        )
        added = time.time()
        for name in (SOURCE_CHANGE_SENSOR, MODEL_VERSION_SENSOR, INDEX_REFRESH_SENSOR):
            wait_until(
                f"{name} to report that the definitions need a reload",
                lambda n=name: any(
                    "Reload definitions" in s and "added gamma" in s
                    for s in _skips_since(instance, n, added)
                ),
                90,
            )
        assert {r.run_id for r in instance.get_runs()} == earlier, "no run until a reload"

        # Back to the loaded sources, with a different model setting: re-embedding starts.
        _edit(deployment.sources_path, lambda d: d["sources"].pop())
        _edit(deployment.sources_path, lambda d: d["embedding"].update(normalize=False))
        wait_until(
            "model_version_sensor to request re-embedding for the edited model",
            lambda: _model_change_partitions(instance) == ["alpha", "beta"],
            90,
        )
