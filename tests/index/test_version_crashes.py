"""What a crash can leave in the version registry: a torn history line, a half-removed version."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.index.versions import HISTORY, VersionRegistry
from rag_pipelines.workspace import Workspace
from tests.index.test_versions import complete


@pytest.fixture
def registry(tmp_path: Path) -> VersionRegistry:
    """A registry on an empty data directory."""
    return VersionRegistry(Workspace(tmp_path))


def test_torn_history_line_is_skipped_and_not_glued(registry: VersionRegistry) -> None:
    """Regression: a publish killed mid-append left a torn line in history.jsonl that made
    history() raise (and so rollback), and the next append was glued onto it."""
    first, second = complete(registry), complete(registry)
    registry.point_live(first)
    history = registry.workspace.index_dir / HISTORY
    with history.open("a", encoding="utf-8") as handle:
        handle.write('{"version": "v2026')  # the crash: no closing brace, no newline
    registry.point_live(second)
    assert [p.version for p in registry.history()] == [first, second]


def test_retired_version_is_an_incomplete_build(registry: VersionRegistry) -> None:
    """A version being removed stops being a version (no rollback target) before its files go."""
    old, live = complete(registry), complete(registry)
    registry.point_live(live)
    registry.retire(old)
    assert registry.versions() == [live]
    assert registry.incomplete() == [old]
    with pytest.raises(PublishRefusedError, match="live version"):
        registry.retire(live)
    registry.remove(old)
    assert registry.incomplete() == []
