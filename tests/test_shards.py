"""Shards: the stable document hash, partition keys, config validation and per-shard state."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import ConfigError
from rag_pipelines.ingest.connectors.filesystem import FilesystemConnector
from rag_pipelines.shards import (
    SEPARATOR,
    Shard,
    UnknownPartition,
    parse_key,
    partition_keys,
    resolve,
    shard_of,
    shards_of,
)
from rag_pipelines.workspace import Workspace


class _Source:
    def __init__(self, name: str, shards: int) -> None:
        self.name, self.shards = name, shards


SOURCES = [_Source("docs", 1), _Source("papers", 3)]


@pytest.mark.parametrize(
    ("document_id", "shards", "expected"),
    [("doc3", 4, 1), ("doc10", 4, 2), ("a.md", 4, 1), ("", 4, 0), ("doc3", 1024, 853), ("x", 1, 0)],
)
def test_shard_of_is_pinned(document_id: str, shards: int, expected: int) -> None:
    """The hash is blake2b, not Python's salted hash(): these values never change."""
    assert shard_of(document_id, shards) == expected


def test_shard_of_is_the_same_in_another_process() -> None:
    code = "from rag_pipelines.shards import shard_of; print(shard_of('notes/b.txt', 1000))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert int(out.stdout) == shard_of("notes/b.txt", 1000)


def test_shards_are_balanced() -> None:
    counts = Counter(shard_of(f"file-{i}.md", 8) for i in range(8000))
    assert set(counts) == set(range(8))
    assert min(counts.values()) > 850 and max(counts.values()) < 1150


def test_partition_keys_keep_an_unsharded_source_name() -> None:
    assert partition_keys(SOURCES) == ["docs", "papers~0", "papers~1", "papers~2"]
    assert [s.key for s in shards_of(SOURCES[1])] == ["papers~0", "papers~1", "papers~2"]
    assert Shard("docs").folder is None and Shard("papers", 2, 3).folder == 2


@pytest.mark.parametrize("key", ["docs", "papers~0", "papers~2"])
def test_keys_round_trip(key: str) -> None:
    shard = resolve(SOURCES, key)
    assert shard.key == key
    assert parse_key(key) == (shard.source, shard.folder)


@pytest.mark.parametrize("key", ["nope", "papers", "papers~3", "papers~x", "docs~0", "papers~-1"])
def test_unknown_keys_are_typed_errors(key: str) -> None:
    with pytest.raises(UnknownPartition):
        resolve(SOURCES, key)


def test_a_shard_holds_exactly_its_documents() -> None:
    ids = [f"d{i}" for i in range(200)]
    shards = shards_of(_Source("papers", 5))
    assert sorted(i for s in shards for i in ids if s.holds(i)) == sorted(ids)
    assert all(Shard("docs").holds(i) for i in ids)


def _config(tmp_path: Path, source: str) -> Path:
    (tmp_path / "root").mkdir(exist_ok=True)
    path = tmp_path / "sources.yaml"
    path.write_text(
        f"sources:\n  - {source}\n    connector: {{type: filesystem, root: {tmp_path / 'root'}}}\n",
        encoding="utf-8",
    )
    return path


def test_shards_default_to_one(tmp_path: Path) -> None:
    assert load_sources_file(_config(tmp_path, "name: docs")).sources[0].shards == 1


@pytest.mark.parametrize("shards", [0, -1, 1025])
def test_shards_out_of_range_are_refused(tmp_path: Path, shards: int) -> None:
    with pytest.raises(ConfigError, match="shards"):
        load_sources_file(_config(tmp_path, f"name: docs\n    shards: {shards}"))


def test_the_separator_cannot_occur_in_a_source_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="name"):
        load_sources_file(_config(tmp_path, f"name: docs{SEPARATOR}1"))


def test_workspace_keeps_unsharded_state_and_puts_a_shard_under_one_folder() -> None:
    ws = Workspace(Path("/data"))
    assert ws.documents_path("docs") == Path("/data/sources/docs/documents.jsonl")
    shard = Path("/data/sources/docs/shards/3")
    paths = [
        ws.documents_path("docs", 3),
        ws.failures_path("docs", 3),
        ws.ledger_path("docs", 3),
        ws.signature_path("docs", 3),
        ws.chunks_path("docs", 3),
        ws.embeddings_state_path("docs", 3),
        ws.source_lock("docs", 3),
    ]
    assert all(p.parent == shard for p in paths)
    assert len(set(paths)) == len(paths)


def test_filesystem_shard_signatures_change_only_where_a_file_changed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for i in range(12):
        (root / f"f{i}.txt").write_text(f"text {i}", encoding="utf-8")
    conn = FilesystemConnector(type="filesystem", root=root)
    before = conn.shard_signatures(4)
    assert conn.shard_signatures(1) == [conn.signature()]
    (root / "f5.txt").write_text("a longer edited text", encoding="utf-8")
    after = conn.shard_signatures(4)
    changed = [k for k in range(4) if before[k] != after[k]]
    assert changed == [shard_of("f5.txt", 4)]


def test_a_source_name_expands_to_every_shard(tmp_path: Path) -> None:
    """What `materialize --source docs` runs: every shard; `--source docs~1` runs one."""
    ctx = PipelineContext(load_sources_file(_config(tmp_path, "name: docs\n    shards: 3")))
    assert ctx.partition_keys() == ["docs~0", "docs~1", "docs~2"]
    assert ctx.partition_keys(["docs"]) == ["docs~0", "docs~1", "docs~2"]
    assert ctx.partition_keys(["docs~1"]) == ["docs~1"]
    assert ctx.shard("docs~2") == Shard("docs", 2, 3)
    with pytest.raises(UnknownPartition):
        ctx.partition_keys(["docs~3"])
