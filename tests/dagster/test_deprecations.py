"""Dagster deprecations are errors in the test suite, and the code location uses none."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_definitions
from rag_pipelines.config import load_sources_file
from tests.dagster.test_optional_assets import definitions

REPO = Path(__file__).resolve().parents[2]


def test_pytest_turns_dagster_deprecations_into_errors() -> None:
    """pyproject's filterwarnings fails a test that calls a deprecated Dagster API."""
    partitions = dg.StaticPartitionsDefinition(["a"])
    with pytest.raises(DeprecationWarning, match="will be removed in"):
        dg.define_asset_job("old_style", selection=["x"], partitions_def=partitions)


@pytest.mark.parametrize("optional", [False, True])
def test_definitions_use_no_deprecated_dagster_api(tmp_path: Path, optional: bool) -> None:
    """Regression: define_asset_job(partitions_def=...) warned of its removal in Dagster 2.0."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", dg.SupersessionWarning)
        defs = (
            definitions(tmp_path, True, True)
            if optional
            else build_definitions(load_sources_file(REPO / "sources.yaml"))
        )
        defs.resolve_all_job_defs()
        defs.resolve_asset_graph()
        assert defs.resolve_job_def("ingest_source").partitions_def is not None
