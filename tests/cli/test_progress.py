"""Per-batch progress: done/total, rate, ETA, throttled, and readable back from a log line."""

from __future__ import annotations

from pathlib import Path

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.ingest.ingestion import ingest_source
from rag_pipelines.progress import ProgressMeter, ProgressUpdate, measure


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_reports_rate_and_eta_and_throttles() -> None:
    clock, seen = Clock(), []
    meter = ProgressMeter("embedding", seen.append, every_s=5.0, clock=clock)
    clock.now += 2.0
    meter(100, 1000)  # first call: reported
    clock.now += 1.0
    meter(150, 1000)  # 1 s later: throttled
    clock.now += 7.0
    meter(500, 1000)  # 10 s in: 50/s, 10 s left
    clock.now += 1.0
    meter(1000, 1000)  # the end is always reported
    assert [u.done for u in seen] == [100, 500, 1000]
    assert seen[1].rate == 50.0 and seen[1].eta_s == 10.0
    assert seen[2].eta_s == 0.0
    assert seen[1].line() == "progress embedding: 500/1000 (50%) · 50.0/s · ETA 10 s"


def test_update_line_round_trips_through_parse() -> None:
    update = measure("parsing", 12, 40, 3.0)
    parsed = ProgressUpdate.parse(f"2026-12-01 dagster - INFO - documents - {update.line()}")
    assert parsed is not None
    assert (parsed.stage, parsed.done, parsed.total, parsed.rate) == ("parsing", 12, 40, 4.0)
    assert parsed.eta_s == 7.0
    assert ProgressUpdate.parse("Started execution of step") is None


def test_nothing_done_yet_has_no_rate() -> None:
    update = measure("parsing", 0, 10, 0.0)
    assert (update.rate, update.eta_s) == (None, None)
    assert update.line() == "progress parsing: 0/10 (0%)"


def test_meter_reports_parsing_progress_of_a_real_ingest(tmp_path: Path) -> None:
    """ingest_source's (done, total) callback, metered: per-file counts, rate and ETA."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(3):
        (docs / f"note-{i}.md").write_text(f"# Note {i}\n\nThe answer is {i}.\n", encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "p", "data_dir": str(tmp_path / "data")},
                "sources": [{"name": "notes", "connector": {"type": "filesystem", "root": "docs"}}],
            }
        ),
        encoding="utf-8",
    )
    source = load_sources_file(tmp_path / "sources.yaml").sources[0]
    seen: list[ProgressUpdate] = []
    report = ingest_source(source, {}, progress=ProgressMeter("parsing", seen.append, every_s=0))
    assert len(report.documents) == 3
    assert [(u.done, u.total) for u in seen] == [(1, 3), (2, 3), (3, 3)]
    assert seen[-1].rate is not None and seen[-1].rate > 0 and seen[-1].eta_s == 0.0
