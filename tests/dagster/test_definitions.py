"""The Dagster code location loads and contains every asset, check and job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from rag_pipelines.config import load_sources_file

REPO = Path(__file__).resolve().parents[2]


def test_definitions_have_every_asset_check_and_job() -> None:
    defs = build_definitions(load_sources_file(REPO / "sources.yaml"))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {
        "feedback",
        "documents",
        "chunks",
        "embeddings",
        "corpus_snapshot",
        "vector_index",
        "bm25_index",
        "graph_index",
        "candidate_index",
        "reranker",
        "published_index",
    }
    checks = {k.name for k in graph.asset_check_keys}
    assert checks == {
        "index_not_empty",
        "index_counts_agree",
        "data_quality",
        "retrieval_quality",
        "source_fresh_policies",
        "source_fresh_handbook",
    }
    sensors = {s.name for s in defs.sensors or []}
    assert sensors == {"source_change_sensor", "model_version_sensor", "index_refresh_sensor"}
    schedules = list(defs.schedules or [])
    assert [s.name for s in schedules] == ["nightly_refresh"]
    assert schedules[0].cron_schedule == "0 2 * * *"  # type: ignore[union-attr]
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"ingest_source", "build_and_publish"}
    partitions = graph.get(dg.AssetKey("documents")).partitions_def
    assert partitions is not None
    assert partitions.get_partition_keys() == ["policies", "handbook"]


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


def test_cli_runs_select_every_asset_of_the_jobs() -> None:
    """Regression: the CLI's build run listed assets by hand and silently missed the reranker."""
    from assets.definitions import CORPUS_WIDE, PER_SOURCE
    from rag_pipelines.runner import CORPUS_ASSETS, PER_SOURCE_ASSETS

    assert CORPUS_ASSETS.split(",") == CORPUS_WIDE
    assert PER_SOURCE_ASSETS.split(",") == PER_SOURCE
