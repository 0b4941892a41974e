"""Per-batch progress from the source assets, through the run's log, to the CLI's progress line."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.definitions import PER_SOURCE, build_parts
from assets.run_events import Follower
from rag_pipelines.config import load_sources_file
from rag_pipelines.progress import ProgressUpdate, measure
from rag_pipelines.runner import progress_text


def test_a_progress_log_line_becomes_the_clis_progress_text() -> None:
    update = measure("embedding", 512, 3000, 5.0)
    parsed = ProgressUpdate.parse(f"embeddings - {update.line()}")
    assert parsed is not None
    event = {
        "type": "progress",
        "label": "ingest_source[notes]",
        "step": "embeddings",
        "stage": parsed.stage,
        "done": parsed.done,
        "total": parsed.total,
        "rate": parsed.rate,
        "eta_s": parsed.eta_s,
    }
    assert progress_text(event) == (
        "ingest_source[notes]: embeddings · embedding: 512/3000 (17%) · 102.4/s · ETA 24 s"
    )


def test_source_assets_log_progress_that_the_launcher_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The documents and embeddings assets log done/total, rate and ETA; the launcher's
    follower turns those log lines into progress events the CLI shows."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"note-{i}.md").write_text(f"# Note {i}\n\nThe answer is {i}.\n", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "p", "data_dir": str(tmp_path / "data")},
                "sources": [{"name": "notes", "connector": {"type": "filesystem", "root": "docs"}}],
                "embedding": {"device": "cpu"},
            }
        ),
        encoding="utf-8",
    )
    parts = build_parts(load_sources_file(sources))
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [*parts.assets, *parts.checks],
        selection=PER_SOURCE,
        partition_key="notes",
        instance=instance,
        resources=parts.resources,
    )
    assert result.success
    documents = result.asset_materializations_for_node("documents")[0].metadata
    assert isinstance(documents["last_change_at"], dg.TimestampMetadataValue)
    assert isinstance(documents["quarantine"], dg.TableMetadataValue)
    logged = [e.user_message for e in instance.all_logs(result.run_id)]
    assert any(m.startswith("progress parsing: 3/3 (100%)") for m in logged), logged
    assert any(m.startswith("progress embedding: ") for m in logged), logged

    capsys.readouterr()
    follower = Follower(instance, result.run_id, "ingest_source[notes]")
    follower.poll()
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    progress = [progress_text(e) for e in events if e["type"] == "progress"]
    parsing = [t for t in progress if t.startswith("ingest_source[notes]: documents · parsing: ")]
    embedding = [t for t in progress if "embeddings · embedding: " in t]
    assert parsing and parsing[-1].startswith("ingest_source[notes]: documents · parsing: 3/3")
    assert "/s · ETA 0 s" in parsing[-1]
    assert embedding and "(100%)" in embedding[-1]
