"""The Dagster code location: a snapshot of its Definitions, and the names module agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.definitions import build_definitions
from rag_pipelines import asset_graph as names
from rag_pipelines.config import load_sources_file

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("definitions.snapshot.json")
UPDATE_ENV = "RAG_UPDATE_SNAPSHOTS"


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """What the code location offers, as plain data: assets, checks, jobs, sensors, schedules."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for node in sorted(graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        assets[node.key.to_user_string()] = {
            "group": node.group_name,
            "partitioned": node.partitions_def is not None,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "pools": sorted(node.pools or ()),
            "kinds": sorted(node.kinds),
            "checks": sorted(k.name for k in node.check_keys),
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys),
            "tags": dict(job.tags),
            "partitioned": job.partitions_def is not None,
        }
    sensors = {
        s.name: {"jobs": sorted(j.name for j in s.jobs), "default": s.default_status.value}
        for s in defs.sensors or []
    }
    schedules = {
        s.name: {"cron": s.cron_schedule, "job": s.job_name, "timezone": s.execution_timezone}
        for s in defs.schedules or []  # type: ignore[union-attr]
    }
    return {"assets": assets, "jobs": jobs, "sensors": sensors, "schedules": schedules}


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    """The example pipeline's Definitions, described."""
    return describe(build_definitions(load_sources_file(REPO / "sources.yaml")))


def test_definitions_match_the_snapshot(example: dict[str, Any]) -> None:
    """Any change to the graph shows up here; regenerate with RAG_UPDATE_SNAPSHOTS=1."""
    if os.environ.get(UPDATE_ENV):
        SNAPSHOT.write_text(json.dumps(example, indent=2, sort_keys=True) + "\n")
    assert example == json.loads(SNAPSHOT.read_text())


def test_the_names_module_names_the_graph(example: dict[str, Any]) -> None:
    """assets/, the runner and the tests take every name from rag_pipelines.asset_graph."""
    assert set(example["assets"]) == {*names.PER_SOURCE, *names.CORPUS_WIDE}
    jobs = example["jobs"]
    assert set(jobs) == {names.INGEST_JOB, names.PUBLISH_JOB}
    assert jobs[names.INGEST_JOB]["assets"] == sorted(names.PER_SOURCE)
    assert jobs[names.PUBLISH_JOB]["assets"] == sorted(names.CORPUS_WIDE)
    checks = {c for a in example["assets"].values() for c in a["checks"]}
    assert checks == {
        *names.BLOCKING_CHECKS,
        *(names.freshness_check(s) for s in ("policies", "handbook")),
    }
    assert set(example["sensors"]) == {
        names.SOURCE_CHANGE_SENSOR,
        names.MODEL_VERSION_SENSOR,
        names.INDEX_REFRESH_SENSOR,
    }
    assert set(example["schedules"]) == {names.NIGHTLY_SCHEDULE}


def test_index_writers_share_one_pool_and_jobs_carry_the_pipeline_tag(
    example: dict[str, Any],
) -> None:
    """One build at a time per instance (the pool); every launcher's runs are tagged alike."""
    pool = names.index_pool("handbook")
    for key, asset in example["assets"].items():
        assert asset["pools"] == ([pool] if key in names.INDEX_WRITERS else []), key
    for job in example["jobs"].values():
        assert job["tags"] == {names.PIPELINE_TAG: "handbook"}


def test_every_asset_has_a_one_line_description() -> None:
    defs = build_definitions(load_sources_file(REPO / "sources.yaml"))
    for node in defs.resolve_asset_graph().asset_nodes:
        assert node.description and "\n" not in node.description.strip(), node.key


def test_workspace_yaml_loads_the_code_location(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "RAG_SOURCES": str(REPO / "sources.yaml"), "DAGSTER_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful" in proc.stdout + proc.stderr
