"""A pipeline built once per session (real parsing, real model, Qdrant Edge) for the tests to
copy and break."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from assets.runs import materialize_pipeline
from tests.reliability.corpus import write_config, write_corpus


@dataclass(frozen=True)
class Built:
    """The built pipeline's folder, its first runs and the version they published."""

    tmp: Path
    results: list[dg.ExecuteInProcessResult]
    version: str


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Three good files and three bad ones, materialized and published."""
    tmp = tmp_path_factory.mktemp("built")
    write_corpus(tmp / "corpus")
    config = write_config(tmp)
    results = materialize_pipeline(config, dg.DagsterInstance.ephemeral())
    pointer = (tmp / "data" / "index" / "LIVE.json").read_text(encoding="utf-8")
    version = json.loads(pointer)["version"]
    return Built(tmp, results, version)
