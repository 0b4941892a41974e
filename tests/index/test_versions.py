"""Index versions: allocation, completeness, publish gating, the LIVE pointer and retention."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rag_pipelines.embedding.fingerprint import ModelFingerprint
from rag_pipelines.errors import IndexNotFoundError, PublishRefusedError
from rag_pipelines.index.manifest import BuildManifest, CheckRecord
from rag_pipelines.index.versions import VersionRegistry, utc_now
from rag_pipelines.workspace import Workspace


@pytest.fixture
def registry(tmp_path: Path) -> VersionRegistry:
    """A registry on an empty data directory."""
    return VersionRegistry(Workspace(tmp_path))


def complete(registry: VersionRegistry) -> str:
    """Allocate a version and write its manifest."""
    version = registry.allocate()
    registry.complete(
        BuildManifest(
            version=version,
            pipeline="docs",
            created_at=utc_now(),
            store_kind="edge",
            collection=f"rag_docs_{version}",
            model_ref="bundled:all-MiniLM-L6-v2",
            model=ModelFingerprint(name="m", revision="r", dimension=4, normalize=True),
            sources={},
            documents=0,
            chunks=0,
            vectors=0,
            content_hash="0" * 64,
        )
    )
    return version


def check(registry: VersionRegistry, version: str, name: str, passed: bool) -> None:
    """Record a check verdict."""
    detail = "" if passed else "recall@10 0.41 < 0.60"
    registry.record_check(
        version, CheckRecord(name=name, passed=passed, detail=detail, checked_at=utc_now())
    )


def test_allocated_ids_are_unique_and_sort_in_allocation_order(registry: VersionRegistry) -> None:
    """Versions allocated back to back never collide and sort chronologically as strings."""
    versions = [registry.allocate() for _ in range(50)]
    assert len(set(versions)) == 50
    assert sorted(versions) == versions
    assert all(registry.build_path(v).is_dir() for v in versions)


def test_folder_without_manifest_is_incomplete(registry: VersionRegistry) -> None:
    """A build folder becomes a version only once its manifest is written."""
    pending = registry.allocate()
    assert registry.incomplete() == [pending]
    assert registry.versions() == []
    with pytest.raises(IndexNotFoundError):
        registry.manifest(pending)
    done = complete(registry)
    assert registry.versions() == [done]
    assert registry.incomplete() == [pending]
    assert registry.manifest(done).collection == f"rag_docs_{done}"


@pytest.mark.parametrize(
    ("verdicts", "message"),
    [
        ({}, "check recall has not run"),
        ({"recall": False}, "check recall failed: recall@10 0.41 < 0.60"),
        ({"recall": True}, "check counts has not run"),
        ({"counts": True, "recall": False}, "check recall failed"),
    ],
)
def test_publish_refused_names_the_check(
    registry: VersionRegistry, verdicts: dict[str, bool], message: str
) -> None:
    """A required check that is missing or failed blocks publishing, by name."""
    version = complete(registry)
    for name, passed in verdicts.items():
        check(registry, version, name, passed)
    with pytest.raises(PublishRefusedError, match=message):
        registry.ensure_publishable(version, ["counts", "recall"])


def test_publishable_when_required_checks_passed(registry: VersionRegistry) -> None:
    """All required checks passed: no error, whatever optional checks said."""
    version = complete(registry)
    check(registry, version, "counts", True)
    check(registry, version, "recall", True)
    check(registry, version, "optional", False)
    registry.ensure_publishable(version, ["counts", "recall"])


def test_incomplete_version_is_not_publishable(registry: VersionRegistry) -> None:
    """A build without a manifest cannot be published or pointed at."""
    version = registry.allocate()
    with pytest.raises(IndexNotFoundError):
        registry.ensure_publishable(version, [])
    with pytest.raises(IndexNotFoundError):
        registry.point_live(version)


def test_point_live_records_previous(registry: VersionRegistry) -> None:
    """LIVE.json names the version and the one it replaced; re-pointing keeps that history."""
    v1, v2 = complete(registry), complete(registry)
    assert registry.live() is None
    assert registry.point_live(v1).previous is None
    assert registry.point_live(v2).previous == v1
    assert registry.point_live(v2).previous == v1
    rollback = registry.point_live(v1)
    assert (rollback.version, rollback.previous) == (v1, v2)
    live = json.loads(registry.workspace.live_pointer.read_text())
    assert (live["version"], live["previous"]) == (v1, v2)
    history = (registry.workspace.index_dir / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["version"] for line in history] == [v1, v2, v2, v1]


def test_point_live_is_atomic(registry: VersionRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails midway leaves the old LIVE.json whole and no temporary file behind."""
    v1, v2 = complete(registry), complete(registry)
    registry.point_live(v1)
    before = registry.workspace.live_pointer.read_bytes()

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        registry.point_live(v2)
    assert registry.workspace.live_pointer.read_bytes() == before
    leftovers = [p.name for p in registry.workspace.index_dir.iterdir() if p.is_file()]
    assert sorted(leftovers) == ["LIVE.json", "history.jsonl"]
    live = registry.live()
    assert live is not None and live.version == v1


@pytest.mark.parametrize(
    ("count", "live", "retention", "keep", "expected"),
    [
        (5, 4, 2, set(), [0, 1, 2]),
        (5, 0, 2, set(), [1, 2]),
        (5, 1, 2, {2}, [0]),
        (5, None, 5, set(), []),
        (5, None, 9, set(), []),
        (5, None, 1, set(), [0, 1, 2, 3]),
        (1, 0, 1, set(), []),
    ],
)
def test_collectable_respects_retention_and_live(
    registry: VersionRegistry,
    count: int,
    live: int | None,
    retention: int,
    keep: set[int],
    expected: list[int],
) -> None:
    """Only versions older than the newest `retention`, not live and not kept, are collected."""
    versions = [complete(registry) for _ in range(count)]
    registry.allocate()  # an incomplete build is never a candidate
    if live is not None:
        registry.point_live(versions[live])
    got = registry.collectable(retention, keep={versions[i] for i in keep})
    assert got == [versions[i] for i in expected]


def test_remove_refuses_the_live_version(registry: VersionRegistry) -> None:
    """The live version cannot be deleted; another one can."""
    v1, v2 = complete(registry), complete(registry)
    registry.point_live(v2)
    with pytest.raises(PublishRefusedError, match="live"):
        registry.remove(v2)
    assert registry.build_path(v2).is_dir()
    registry.remove(v1)
    assert registry.versions() == [v2]
