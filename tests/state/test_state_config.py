"""`pipeline.state` in sources.yaml, and the default: the data dir, exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.config.loader import parse_sources
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.embedding.sql_cache import SqlEmbeddingCache
from rag_pipelines.errors import ConfigError
from rag_pipelines.index.manifest import LivePointer
from rag_pipelines.pipeline.sync import shard_synced, version_synced
from rag_pipelines.state import LivePointerConflict, LocalStateStore

SOURCES = """
sources:
  - name: docs
    connector: {type: filesystem, root: corpus}
"""


def _load(tmp_path: Path, pipeline: str, env: dict[str, str] | None = None) -> SourcesFile:
    (tmp_path / "corpus").mkdir(exist_ok=True)
    text = f"pipeline:\n  data_dir: data\n{pipeline}\n{SOURCES}"
    return parse_sources(text, tmp_path / "sources.yaml", env or {})


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("  state: {url: 's3://b/p'}", "set pipeline.state.metadata_db"),
        ("  state: {url: 'ftp://b/p', metadata_db: 'sqlite:///m'}", "use one of file://, s3://"),
        ("  state: {metadata_db: 'postgresql://u@h/db'}", r"postgresql\+psycopg2"),
        ("  state: {metadata_db: 'mysql://u@h/db'}", "use one of"),
        ("  state: {urll: 's3://b/p'}", "urll"),
    ],
)
def test_bad_state_settings_say_what_to_do(tmp_path: Path, state: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, state)


def test_shared_state_refuses_qdrant_local_mode(tmp_path: Path) -> None:
    state = (
        "  state: {url: 's3://b/p', metadata_db: 'sqlite:///m'}\nindex:\n  qdrant: {backend: local}"
    )
    with pytest.raises(ConfigError, match="cannot be shared"):
        _load(tmp_path, state)


def test_the_metadata_db_comes_from_the_environment(tmp_path: Path) -> None:
    state = "  state: {url: 's3://b/p', metadata_db: '${RAG_STATE_DB}'}"
    config = _load(tmp_path, state, {"RAG_STATE_DB": "sqlite:///x.sqlite"})
    assert config.pipeline.state.metadata_db == "sqlite:///x.sqlite"


def test_default_state_is_the_data_dir_with_nothing_copied(tmp_path: Path) -> None:
    """No pipeline.state: LIVE.json, history.jsonl and the SQLite cache, as before."""
    ctx = PipelineContext(_load(tmp_path, ""))
    assert isinstance(ctx.state.store, LocalStateStore) and ctx.state.db is None
    with shard_synced(ctx, ctx.shard("docs")), version_synced(ctx, "v1"):
        pass
    assert not ctx.workspace.root.exists()  # syncing created nothing
    cache = ctx.embedding_cache()
    assert isinstance(cache, EmbeddingCache)
    assert cache.path == ctx.workspace.embedding_cache_path
    cache.close()


def test_with_a_metadata_db_the_pointer_is_a_row_not_a_file(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    ctx = PipelineContext(_load(tmp_path, f"  state: {{metadata_db: '{db}'}}"))
    assert isinstance(ctx.embedding_cache(), SqlEmbeddingCache)
    registry = ctx.registry
    for version in ("v1", "v2"):
        registry.build_path(version).mkdir(parents=True)
        (registry.build_path(version) / "manifest.json").write_text("{}")
    registry.manifest = lambda v: None  # type: ignore[assignment,method-assign,return-value]
    registry.point_live("v1")
    stale = registry.live()
    registry.point_live("v2", expected=stale)
    assert not ctx.workspace.live_pointer.exists()
    assert [p.version for p in registry.history()] == ["v1", "v2"]
    with pytest.raises(LivePointerConflict):
        registry.point_live("v1", expected=LivePointer.model_validate(stale.model_dump()))
    live = registry.live()
    assert live is not None and live.version == "v2" and live.previous == "v1"
