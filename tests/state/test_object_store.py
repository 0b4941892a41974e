"""The object store (S3 on moto, file://): prefix sync between scratch dirs, versions whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.config.loader import parse_sources
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.ingest.signature import listing_signature
from rag_pipelines.pipeline.build.changes import changed_sources
from rag_pipelines.pipeline.sync import shard_synced
from rag_pipelines.state import PipelineState, StateStoreError, open_state_store, synced
from rag_pipelines.workspace import Workspace


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_push_then_pull_moves_a_prefix_between_scratch_dirs(store_url: str, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    store_a, store_b = open_state_store(store_url, a), open_state_store(store_url, b)
    with synced(store_a, ["sources/docs/"]):
        _write(a, "sources/docs/chunks.jsonl", "one\n")
        _write(a, "sources/docs/.lock", "")  # locks and temporaries never travel
        _write(a, "sources/other/x.json", "{}")  # outside the prefix: not pushed
    store_b.pull("sources/docs/")
    assert (b / "sources/docs/chunks.jsonl").read_text() == "one\n"
    assert not (b / "sources/docs/.lock").exists()
    assert not store_b.exists("sources/other/x.json")


def test_a_changed_file_is_pulled_again_and_a_deleted_one_is_deleted(
    store_url: str, tmp_path: Path
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    store_a, store_b = open_state_store(store_url, a), open_state_store(store_url, b)
    with synced(store_a, ["sources/docs/"]):
        _write(a, "sources/docs/chunks.jsonl", "one\n")
        _write(a, "sources/docs/failures.jsonl", "bad\n")
    store_b.pull("sources/docs/")
    with synced(store_a, ["sources/docs/"]):
        _write(a, "sources/docs/chunks.jsonl", "one\ntwo\n")
        (a / "sources/docs/failures.jsonl").unlink()
    store_b.pull("sources/docs/")
    assert (b / "sources/docs/chunks.jsonl").read_text() == "one\ntwo\n"
    assert not store_b.exists("sources/docs/failures.jsonl")


def test_runs_owning_different_shards_of_one_source_never_overwrite_each_other(
    store_url: str, tmp_path: Path
) -> None:
    """Two workers pull the same source prefix; each pushes only what it wrote."""
    a, b = tmp_path / "a", tmp_path / "b"
    store_a, store_b = open_state_store(store_url, a), open_state_store(store_url, b)
    with synced(store_a, ["sources/docs/"]):
        _write(a, "sources/docs/shards/1/chunks.jsonl", "a-old\n")
        _write(a, "sources/docs/shards/2/chunks.jsonl", "b-old\n")
    with synced(store_a, ["sources/docs/"]), synced(store_b, ["sources/docs/"]):
        _write(a, "sources/docs/shards/1/chunks.jsonl", "a-new\n")
        _write(b, "sources/docs/shards/2/chunks.jsonl", "b-new, longer\n")
    check = open_state_store(store_url, tmp_path / "c")
    check.pull("sources/docs/")
    assert (tmp_path / "c/sources/docs/shards/1/chunks.jsonl").read_text() == "a-new\n"
    assert (tmp_path / "c/sources/docs/shards/2/chunks.jsonl").read_text() == "b-new, longer\n"


def test_files_already_in_the_store_are_not_sent_again(store_url: str, tmp_path: Path) -> None:
    store = open_state_store(store_url, tmp_path / "a")
    sent: list[str] = []
    real_upload = store.upload

    def counting(key: str) -> None:
        sent.append(key)
        real_upload(key)

    store.upload = counting  # type: ignore[method-assign]
    with synced(store, ["index/builds/v1/"]):
        _write(tmp_path / "a", "index/builds/v1/chunks.jsonl", "c\n")
        _write(tmp_path / "a", "index/builds/v1/manifest.json", "{}")
        store.upload_last(["index/builds/v1/"], "index/builds/v1/manifest.json")
    assert sent == ["index/builds/v1/chunks.jsonl", "index/builds/v1/manifest.json"]
    with synced(store, ["index/builds/v1/"]):
        pass
    assert len(sent) == 2


def test_a_failed_stage_pushes_nothing(store_url: str, tmp_path: Path) -> None:
    store = open_state_store(store_url, tmp_path / "a")
    with pytest.raises(RuntimeError), synced(store, ["sources/docs/"]):
        _write(tmp_path / "a", "sources/docs/chunks.jsonl", "half\n")
        raise RuntimeError("stage failed")
    assert not store.exists("sources/docs/chunks.jsonl")


def _manifest(version: str) -> BuildManifest:
    return BuildManifest.model_validate(
        {
            "version": version,
            "pipeline": "p",
            "created_at": "2026-12-01T00:00:00+00:00",
            "store_kind": "edge",
            "collection": f"rag_p_{version}",
            "model_ref": "m",
            "model": {"name": "m", "dimension": 4, "normalize": True},
            "sources": {},
            "documents": 0,
            "chunks": 0,
            "vectors": 0,
            "content_hash": "h",
        }
    )


def _registry(url: str, root: Path) -> VersionRegistry:
    return VersionRegistry(Workspace(root), PipelineState(open_state_store(url, root)))


def test_a_version_upload_is_complete_or_absent(store_url: str, tmp_path: Path) -> None:
    """An upload cut off before its manifest leaves no version for other machines."""
    builder = _registry(store_url, tmp_path / "builder")
    version = builder.allocate()
    _write(tmp_path / "builder", f"index/builds/{version}/chunks.jsonl", "c\n")
    _write(tmp_path / "builder", f"index/qdrant-edge/rag_p_{version}/segment.bin", "v")
    _write(tmp_path / "builder", f"index/qdrant-edge/rag_p_{version}_bm25/segment.bin", "s")
    uploaded: list[str] = []
    store = builder.state.store
    real_upload = store.upload

    def dies_after_two(key: str) -> None:
        if len(uploaded) == 2:
            raise ConnectionError("network gone mid-upload")
        real_upload(key)
        uploaded.append(key)

    store.upload = dies_after_two  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        builder.complete(_manifest(version))
    reader = _registry(store_url, tmp_path / "reader")
    assert reader.versions() == []
    assert not any(k.endswith("manifest.json") for k in uploaded)
    assert reader.incomplete() == [version]  # what the next build's cleanup removes

    store.upload = real_upload  # type: ignore[method-assign]
    builder.complete(_manifest(version))
    assert reader.versions() == [version]
    reader.fetch(version)
    assert (tmp_path / f"reader/index/qdrant-edge/rag_p_{version}_bm25/segment.bin").exists()
    assert reader.manifest(version).version == version

    reader.remove(version)
    assert builder.versions() == []
    assert store.children("index/qdrant-edge") == []


def test_cleanup_discards_a_crashed_upload_from_the_store(store_url: str, tmp_path: Path) -> None:
    crashed = _registry(store_url, tmp_path / "crashed")
    version = crashed.allocate()
    _write(tmp_path / "crashed", f"index/builds/{version}/chunks.jsonl", "c\n")
    _write(tmp_path / "crashed", f"index/qdrant-edge/rag_p_{version}/segment.bin", "v")
    for prefix in crashed.version_prefixes(version):
        crashed.state.store.push(prefix, {})  # uploaded, then the machine died: no manifest
    next_build = _registry(store_url, tmp_path / "next")
    assert next_build.incomplete() == [version]
    next_build.discard(version)
    assert next_build.incomplete() == []
    assert next_build.state.store.children("index/qdrant-edge") == []


def test_gs_and_az_need_their_fsspec_packages(tmp_path: Path) -> None:
    """gcsfs and adlfs are not installed here: the error says what to install."""
    for url, package in (("gs://bucket/state", "gcsfs"), ("az://container/state", "adlfs")):
        try:
            __import__(package)
        except ImportError:
            with pytest.raises(StateStoreError, match=package):
                open_state_store(url, tmp_path)


def _machine(s3_url: str, tmp_path: Path, name: str) -> PipelineContext:
    """One machine's context: its own data dir, the shared store and metadata DB."""
    (tmp_path / "corpus").mkdir(exist_ok=True)
    text = (
        f"pipeline:\n  name: p\n  data_dir: {name}\n  state:\n    url: {s3_url}\n"
        f"    metadata_db: sqlite:///{tmp_path / 'meta.sqlite'}\n"
        "index: {retention: 2}\n"
        "sources:\n  - {name: docs, connector: {type: filesystem, root: corpus}}\n"
    )
    return PipelineContext(parse_sources(text, tmp_path / f"{name}.yaml", {}))


def test_the_change_sensor_sees_an_ingest_made_on_another_machine(
    s3_url: str, tmp_path: Path
) -> None:
    """A daemon with an empty data dir must not re-request sources ingested elsewhere."""
    worker, daemon = _machine(s3_url, tmp_path, "worker"), _machine(s3_url, tmp_path, "daemon")
    _write(tmp_path / "corpus", "a.md", "# A\n\ntext\n")
    source = worker.config.sources[0]
    with shard_synced(worker, worker.shard("docs")):
        path = worker.workspace.signature_path("docs")
        path.parent.mkdir(parents=True)
        path.write_text(listing_signature(source), encoding="utf-8")
    assert changed_sources(daemon, {}) == []
    _write(tmp_path / "corpus", "b.md", "# B\n\nmore\n")
    assert [c.source for c in changed_sources(daemon, {})] == ["docs"]


def test_publish_rollback_and_gc_work_on_the_store_from_any_machine(
    s3_url: str, tmp_path: Path
) -> None:
    """Publishing on one machine, rolling back on another; GC removes versions from the store."""
    from rag_pipelines.asset_graph import BLOCKING_CHECKS
    from rag_pipelines.index.edge_store import EdgeVectorStore
    from rag_pipelines.index.manifest import CheckRecord
    from rag_pipelines.pipeline.publish import publish, rollback

    builder, other = _machine(s3_url, tmp_path, "builder"), _machine(s3_url, tmp_path, "other")
    versions = []
    for _ in range(3):
        registry = builder.registry
        version = registry.allocate()
        _write(builder.workspace.root, f"index/qdrant-edge/rag_p_{version}/segment.bin", "v")
        registry.complete(_manifest(version))
        for name in BLOCKING_CHECKS:
            registry.record_check(
                version, CheckRecord(name=name, passed=True, checked_at="2026-12-01T00:00:00")
            )
        publish(builder, version, EdgeVectorStore(builder.workspace.edge_dir))
        versions.append(version)
    assert other.registry.versions() == versions[1:]  # retention 2: the oldest is gone
    store = other.state.store
    assert not store.exists(f"index/builds/{versions[0]}/manifest.json")
    assert store.children("index/qdrant-edge") == [f"rag_p_{v}" for v in versions[1:]]

    pointer = rollback(other, EdgeVectorStore(other.workspace.edge_dir))
    assert (pointer.version, pointer.rollback) == (versions[1], True)
    live = builder.registry.live()
    assert live is not None and live.version == versions[1]
    assert not other.workspace.live_pointer.exists()
