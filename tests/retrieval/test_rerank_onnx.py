"""The reranker's cross-encoder on ONNX Runtime: same scores and order as torch, cached export."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_pipelines.embedding.resolve import bundled_model_path
from rag_pipelines.errors import ModelLoadError
from rag_pipelines.retrieval.rerank import CrossEncoderReranker
from rag_pipelines.retrieval.rerank_onnx import MAX_SCORE_DIFF

QUERY = "does aspirin lower the risk of a heart attack"
PASSAGES = [
    "Aspirin reduces the risk of myocardial infarction in men over fifty.",
    "Kinases regulate gene expression in mammalian cells.",
    "Low-dose aspirin and cardiovascular events: a randomized trial of 20,000 patients.",
    "Protein folding is driven by the hydrophobic effect.",
    "Short.",
    " ".join(["A passage long enough to be truncated at the model's maximum length."] * 40),
]


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-logit cross-encoder saved to disk: the bundled MiniLM with a seeded head."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    encoder = CrossEncoder(
        str(bundled_model_path()), num_labels=1, max_length=64, local_files_only=True
    )
    folder = tmp_path_factory.mktemp("cross-encoder")
    encoder.save(str(folder))
    return folder


def test_onnx_reranker_scores_and_order_match_torch(
    cross_encoder_dir: Path, tmp_path: Path
) -> None:
    """Every passage's score within MAX_SCORE_DIFF of torch's, and the same rerank order."""
    torch_ranker = CrossEncoderReranker(str(cross_encoder_dir), batch_size=4, max_length=64)
    onnx_ranker = CrossEncoderReranker(
        str(cross_encoder_dir), batch_size=4, max_length=64, onnx_dir=tmp_path
    )
    assert (torch_ranker.backend, onnx_ranker.backend) == ("torch", "onnx")
    expected = torch_ranker.rerank(QUERY, PASSAGES, 60_000)
    got = onnx_ranker.rerank(QUERY, PASSAGES, 60_000)
    assert got.order == expected.order
    diffs = [abs(got.scores[i] - expected.scores[i]) for i in range(len(PASSAGES))]
    assert max(diffs) <= MAX_SCORE_DIFF
    assert len(set(expected.scores.values())) == len(PASSAGES)  # a head that tells them apart
    exports = list(tmp_path.rglob("model.onnx"))
    assert len(exports) == 1
    stamp = exports[0].stat().st_mtime_ns
    CrossEncoderReranker(str(cross_encoder_dir), max_length=64, onnx_dir=tmp_path)
    assert exports[0].stat().st_mtime_ns == stamp  # the second load reuses the export


def test_an_export_that_differs_from_torch_is_refused(
    cross_encoder_dir: Path, tmp_path: Path
) -> None:
    """A cached export of other weights fails verification with a typed, actionable error."""
    import torch
    from sentence_transformers import CrossEncoder

    CrossEncoderReranker(str(cross_encoder_dir), max_length=64, onnx_dir=tmp_path)
    (export,) = tmp_path.rglob("model.onnx")
    torch.manual_seed(1)  # another random head: other scores
    other = CrossEncoder(
        str(bundled_model_path()), num_labels=1, max_length=64, local_files_only=True
    )
    from rag_pipelines.embedding.onnx_export import export_transformer

    sample = (["a query"], ["a passage"])
    export_transformer(other.model, other.tokenizer, export, "logits", sample)
    with pytest.raises(ModelLoadError, match=r"differs from torch.*delete that file"):
        CrossEncoderReranker(str(cross_encoder_dir), max_length=64, onnx_dir=tmp_path)


@pytest.mark.parametrize(
    ("backend", "onnx"), [("auto", True), ("onnx", True), ("onnx-int8", True), ("torch", False)]
)
def test_the_reranker_follows_the_embedding_backend(
    tmp_path: Path, backend: str, onnx: bool
) -> None:
    """ONNX (fp32, in the data dir's ONNX cache) wherever embedding.backend picks ONNX on CPU."""
    import yaml

    from rag_pipelines.config import load_sources_file
    from rag_pipelines.context import PipelineContext
    from rag_pipelines.retrieval.open import reranker_onnx_dir

    (tmp_path / "docs").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "pipeline": {"name": "t", "data_dir": str(tmp_path / "data")},
                "embedding": {"device": "cpu", "backend": backend},
                "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": "docs"}}],
            }
        )
    )
    ctx = PipelineContext(load_sources_file(path))
    assert reranker_onnx_dir(ctx) == (ctx.workspace.onnx_dir if onnx else None)
