"""Two publishers of one pipeline at once, each `rag-pipelines materialize` on its own machine
(data dir) sharing state (a file:// store and a SQLite metadata DB): the loser's CLI names the
lost race, not a check that passed or measured nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from rag_pipelines.config import load_sources_file
from tests.reliability.corpus import GOOD
from tests.reliability.pipeline import REPO, Pipeline, start_paused

CLI = [sys.executable, "-c", "from rag_pipelines.cli import main; main()"]
RUN_TIMEOUT_S = 600


def _machine(tmp: Path, name: str, state: dict[str, str]) -> Pipeline:
    """One machine's sources.yaml and data dir, over the shared corpus and state."""
    folder = tmp / name
    folder.mkdir()
    data = {
        "pipeline": {"name": "race", "data_dir": str(folder / "data"), "state": state},
        "embedding": {"device": "cpu"},
        "sources": [
            {"name": "docs", "connector": {"type": "filesystem", "root": str(tmp / "corpus")}}
        ],
    }
    (folder / "sources.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return Pipeline(folder, load_sources_file(folder / "sources.yaml", env={}))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # each its own instance
    return {**env, "PYTHONPATH": str(REPO), "DO_NOT_TRACK": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.mark.slow
def test_the_publisher_that_lost_the_race_reports_the_live_pointer_conflict(
    tmp_path: Path,
) -> None:
    """Regression: the loser's CLI named the unmeasured retrieval_quality check (the first
    check that did not pass) as the cause, instead of LivePointerConflict."""
    for rel, text in GOOD.items():
        (tmp_path / "corpus" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / rel).write_text(text, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    state = {"url": (tmp_path / "state").as_uri(), "metadata_db": db}
    loser, winner = _machine(tmp_path, "a", state), _machine(tmp_path, "b", state)
    command = [*CLI, "--config", str(loser.sources_path), "materialize"]
    # The loser has read the live pointer (none yet) and passed its checks; it waits there.
    paused = start_paused(loser, "corpus", "publish_before_switch", command, _env(), wait_s=480)
    try:
        won = subprocess.run(
            [*CLI, "--config", str(winner.sources_path), "materialize"],
            cwd=REPO,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        assert won.returncode == 0, won.stderr[-3000:]
        code = paused.resume(timeout_s=RUN_TIMEOUT_S)
    finally:  # never leave the loser's launcher waiting at its pause point
        paused.marker.unlink(missing_ok=True)
        if paused.proc.poll() is None:
            try:
                paused.proc.wait(timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                paused.kill()
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        live = conn.execute(sa.text("select version from rag_live where pipeline='race'"))
        version = live.scalar_one()
    engine.dispose()
    output = paused.tail()
    assert code == 1, output
    [line] = [x for x in output.splitlines() if x.startswith("run failed: ")]
    assert "LivePointerConflict" in line, line
    assert f"the live version is now {version}, not none" in line, line
    assert "retrieval_quality" not in line, line
