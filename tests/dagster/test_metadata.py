"""Metadata the Dagster UI can render: inline images, timestamps, announced sensors."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import dagster as dg

from assets.definitions import build_definitions
from assets.metadata import embedded_png, timestamp
from rag_pipelines.config import load_sources_file

REPO = Path(__file__).resolve().parents[2]


def test_a_plot_is_embedded_not_a_path(tmp_path: Path) -> None:
    """Regression: the experiments plot was a file path the UI cannot show."""
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    value = embedded_png(png)
    assert isinstance(value, dg.MarkdownMetadataValue)
    encoded = value.value.split("data:image/png;base64,", 1)[1].rstrip(")")
    assert base64.b64decode(encoded) == png.read_bytes()


def test_times_are_timestamps() -> None:
    iso = "2026-12-01T10:45:34.908+00:00"
    value = timestamp(iso)
    assert isinstance(value, dg.TimestampMetadataValue)
    assert value.value == datetime.fromisoformat(iso).timestamp()


def test_sensors_say_they_run_by_default() -> None:
    """The sensors start with the daemon; the UI's sensor list says so."""
    defs = build_definitions(load_sources_file(REPO / "sources.yaml"))
    for sensor in defs.sensors or []:
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        assert sensor.description and sensor.description.startswith("Runs as soon as a daemon")
