"""The reranker decision stored with a version follows the configuration it was made under."""

from __future__ import annotations

from pathlib import Path

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.records import load_reranker_record
from rag_pipelines.pipeline.tuning.reranker import prepare_reranker
from rag_pipelines.retrieval.engine import VersionIndex


def _context(tmp_path: Path, rerank: dict[str, object]) -> PipelineContext:
    (tmp_path / "docs").mkdir(exist_ok=True)
    path = tmp_path / "sources.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "t", "data_dir": str(tmp_path / "data")},
                "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": "docs"}}],
                "retrieval": {"rerank": rerank},
            }
        )
    )
    return PipelineContext(load_sources_file(path))


def _no_index() -> VersionIndex:
    raise AssertionError("neither a disabled nor a configured reranker needs the index")


def test_a_changed_rerank_configuration_is_not_answered_by_the_stale_record(
    tmp_path: Path,
) -> None:
    """Regression: a version's stored record was reused after the settings (or recipe) changed."""
    model_dir = tmp_path / "my-cross-encoder"
    model_dir.mkdir()
    first = prepare_reranker(_context(tmp_path, {}), "v1", _no_index)
    assert first.status == "disabled" and first.settings_key

    ctx = _context(tmp_path, {"model": str(model_dir), "enabled": True})
    second = prepare_reranker(ctx, "v1", _no_index)
    assert second.status == "configured" and second.enabled_by_default
    assert second.model_path == str(model_dir.resolve())
    assert second.settings_key != first.settings_key
    assert load_reranker_record(ctx.registry.build_path("v1")) == second


def test_the_same_configuration_reuses_the_stored_record(tmp_path: Path) -> None:
    ctx = _context(tmp_path, {})
    first = prepare_reranker(ctx, "v1", _no_index)
    stored = ctx.registry.build_path("v1") / "reranker.json"
    stored.write_text(first.model_copy(update={"note": "kept"}).model_dump_json())
    assert prepare_reranker(_context(tmp_path, {}), "v1", _no_index).note == "kept"
