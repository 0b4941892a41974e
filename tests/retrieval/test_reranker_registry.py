"""Reranker kinds by name: config validation, the registry, and a version reranking end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import RerankSettings
from rag_pipelines.config.rerankers import UnknownReranker, reranker_kinds
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.embedding.resolve import bundled_model_path
from rag_pipelines.errors import ConfigError
from rag_pipelines.pipeline.tuning.reranker import prepare_reranker, settings_json
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.open import open_version
from rag_pipelines.retrieval.rerank import CrossEncoderReranker
from rag_pipelines.retrieval.rerankers.base import RerankerSpec, build_reranker
from rag_pipelines.retrieval.rerankers.late_interaction import LateInteractionReranker
from tests.retrieval.slice_index import build_version, slice_context
from tests.scifact import judged_slice


def test_the_registry_knows_both_kinds_and_the_default_is_the_cross_encoder() -> None:
    assert set(reranker_kinds()) == {"cross-encoder", "late-interaction"}
    assert RerankSettings().kind == "cross-encoder"


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("cross-encoder", CrossEncoderReranker), ("late-interaction", LateInteractionReranker)],
)
def test_build_reranker_makes_each_kind(kind: str, cls: type) -> None:
    assert isinstance(build_reranker(RerankerSpec(str(bundled_model_path()), kind)), cls)


def test_an_unknown_kind_is_refused_by_the_registry() -> None:
    with pytest.raises(UnknownReranker, match="known: \\['cross-encoder', 'late-interaction'\\]"):
        build_reranker(RerankerSpec("unused", "colbert"))


def test_an_unknown_kind_is_a_config_error_naming_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "t", "data_dir": str(tmp_path / "data")},
                "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": "docs"}}],
                "retrieval": {"rerank": {"kind": "colbert"}},
            }
        )
    )
    with pytest.raises(ConfigError, match=r"colbert.*late-interaction"):
        load_sources_file(path)


def test_the_default_kind_leaves_the_record_key_as_before() -> None:
    """Regression guard: adding `kind` must not make every stored reranker record stale."""
    assert '"kind"' not in settings_json(RerankSettings())
    assert '"kind"' in settings_json(RerankSettings(kind="late-interaction"))


@pytest.fixture(scope="module")
def late_version(
    scifact_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VersionIndex]:
    """A 20-document SciFact version configured with the late-interaction reranker, opened."""
    _, _, ids = judged_slice(scifact_dir, 2, 20)
    rerank = {"kind": "late-interaction", "top_n": 8, "blend": 1.0}
    root = tmp_path_factory.mktemp("late")
    ctx = slice_context(root, scifact_dir, ids, retrieval={"rerank": rerank})
    model = SentenceTransformerModel(ctx.config.embedding)
    version, store = build_version(ctx, model, model.tokenizer)
    record = prepare_reranker(ctx, version, lambda: pytest.fail("nothing to train"))
    assert record.kind == "late-interaction" and record.status == "configured"
    assert record.model_path == str(bundled_model_path())  # the version's own model
    index = open_version(ctx, version, store)
    yield index
    index.close()
    store.close()


def test_the_engine_reranks_with_the_late_interaction_kind(late_version: VersionIndex) -> None:
    assert isinstance(late_version.reranker, LateInteractionReranker)
    assert late_version.rerank_default  # configured: on unless `enabled: false`
    plain = late_version.search("ALDH1 expression in breast cancer", top_k=8, rerank=False)
    response = late_version.search("ALDH1 expression in breast cancer", top_k=8)
    assert response.reranked and not plain.reranked
    assert {h.chunk_id for h in response.hits} == {h.chunk_id for h in plain.hits}
    scores = [h.rerank_score for h in response.hits if h.rerank_score is not None]
    assert len(scores) == len(response.hits)
    assert scores == sorted(scores, reverse=True)  # blend 1.0: the reranker's order alone
