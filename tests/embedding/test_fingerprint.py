"""Model fingerprints name the exact weights that produced a vector."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding import fingerprint as fingerprint_module
from rag_pipelines.embedding.fingerprint import ModelFingerprint, weights_sha256
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.embedding.resolve import bundled_model_path


def test_bundled_key_names_model_weights_dimension_and_norm(minilm: Any) -> None:
    """The key is name@sha256:<first 16 hex of the weights' sha256>/d384/norm."""
    weights = bundled_model_path() / "model.safetensors"
    oracle = hashlib.sha256(b"model.safetensors\0" + weights.read_bytes()).hexdigest()
    assert minilm.fingerprint.weights_sha256 == oracle
    assert minilm.fingerprint.key == f"all-MiniLM-L6-v2@sha256:{oracle[:16]}/d384/norm"


def test_two_loads_have_the_same_fingerprint(minilm: Any) -> None:
    """Loading the bundled model again (hash recomputed, not cached) gives the same fingerprint."""
    fingerprint_module._hash_files.cache_clear()
    again = SentenceTransformerModel(EmbeddingSettings(device="cpu"))
    assert again.fingerprint == minilm.fingerprint


def _grow(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(b"weights-v2-longer")


def _rename(folder: Path) -> None:
    (folder / "model.safetensors").rename(folder / "other.safetensors")


def _add_onnx(folder: Path) -> None:
    (folder / "onnx").mkdir()
    (folder / "onnx" / "model.onnx").write_bytes(b"onnx")


def _touch_readme(folder: Path) -> None:
    (folder / "README.md").write_text("new readme")


def _rewrite_same(folder: Path) -> None:
    (folder / "model.safetensors").write_bytes(b"weights-v1")


@pytest.mark.parametrize(
    ("edit", "changes"),
    [
        (_grow, True),
        (_rename, True),
        (_add_onnx, True),
        (_touch_readme, False),
        (_rewrite_same, False),
    ],
    ids=["content", "rename", "extra-weights", "non-weight-file", "same-bytes-rewritten"],
)
def test_weights_hash_follows_weight_files(
    tmp_path: Path, edit: Callable[[Path], None], changes: bool
) -> None:
    """weights_sha256 changes with the weight files' bytes or names, and with nothing else."""
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("readme")
    (tmp_path / "model.safetensors").write_bytes(b"weights-v1")
    before = weights_sha256(tmp_path)
    edit(tmp_path)
    assert (weights_sha256(tmp_path) != before) is changes


def test_folder_without_weights_is_refused(tmp_path: Path) -> None:
    """A folder with no weight files cannot be fingerprinted."""
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no weight files"):
        weights_sha256(tmp_path)


@pytest.mark.parametrize(
    ("revision", "weights", "normalize", "key"),
    [
        ("0123abcd", "f" * 64, True, "org/model@0123abcd/d8/norm"),
        (None, "ab" * 32, True, f"org/model@sha256:{'ab' * 8}/d8/norm"),
        (None, "ab" * 32, False, f"org/model@sha256:{'ab' * 8}/d8/raw"),
    ],
)
def test_key_prefers_revision(
    revision: str | None, weights: str, normalize: bool, key: str
) -> None:
    """A hub revision names the weights; otherwise the weights hash does."""
    fingerprint = ModelFingerprint(
        name="org/model",
        revision=revision,
        weights_sha256=weights,
        dimension=8,
        normalize=normalize,
    )
    assert fingerprint.key == key
