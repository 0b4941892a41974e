"""`status` on a machine that did not ingest reads the sources' freshness from the shared state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _config(tmp: Path, name: str, state: dict[str, str]) -> Path:
    """sources.yaml of one machine: the same pipeline and shared state, its own data dir."""
    data = {
        "pipeline": {"name": "remote", "data_dir": str(tmp / f"scratch-{name}"), "state": state},
        "embedding": {"device": "cpu"},
        "sources": [
            {"name": "notes", "connector": {"type": "filesystem", "root": str(tmp / "corpus")}},
            {
                "name": "sharded",
                "shards": 2,
                "connector": {"type": "filesystem", "root": str(tmp / "corpus")},
            },
        ],
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_status_elsewhere_shows_the_shared_last_ingest(
    tmp_path: Path, s3_url: str, pg_url: str
) -> None:
    """Regression: `status` where the state is remote printed "stale — last ingest never"
    right after another machine's successful ingest."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("kettle", "lamp", "boots", "drone"):
        (corpus / f"{name}.md").write_text(f"# {name}\n\nAll about the {name}.\n")
    state = {"url": s3_url, "metadata_db": pg_url}
    worker, other = _config(tmp_path, "worker", state), _config(tmp_path, "other", state)
    env = {**os.environ, "PYTHONPATH": str(REPO), "DO_NOT_TRACK": "1"}
    for partition in ("notes", "sharded~0", "sharded~1"):
        done = _run(["-m", "tests.reliability.driver", str(worker), partition], env)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    shutil.rmtree(tmp_path / "scratch-worker")

    as_json = _run(["-m", "rag_pipelines.cli", "-c", str(other), "status", "--json"], env)
    freshness = json.loads(as_json.stdout)["freshness"]
    assert all(f["last_ingest_at"] for f in freshness.values()), freshness
    shown = _run(["-m", "rag_pipelines.cli", "-c", str(other), "status"], env)
    assert shown.returncode == 0, shown.stderr
    assert "last ingest never" not in shown.stdout, shown.stdout
    for source in ("notes", "sharded"):
        assert f"source {source}: fresh — last ingest 20" in shown.stdout, shown.stdout
