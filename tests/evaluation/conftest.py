"""Fixtures: copies of the bundled MiniLM as other model versions (a wrong one, a retuned one)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from rag_pipelines.embedding.resolve import bundled_model_path

WEIGHTS = "model.safetensors"
Edit = Callable[[dict[str, np.ndarray], np.random.Generator], None]


def copy_model(target: Path, edit: Edit) -> Path:
    """The bundled model's folder with its weights edited: a new model identity, same shape."""
    source = bundled_model_path()
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(WEIGHTS))
    tensors = load_file(str(source / WEIGHTS))
    edit(tensors, np.random.default_rng(7))
    save_file(tensors, str(target / WEIGHTS), metadata={"format": "pt"})
    return target


def _scramble(tensors: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    words = tensors["embeddings.word_embeddings.weight"]
    tensors["embeddings.word_embeddings.weight"] = words[rng.permutation(len(words))]


def _nudge(tensors: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    name = "encoder.layer.5.output.LayerNorm.bias"
    noise = rng.normal(0.0, 0.01, tensors[name].shape)
    tensors[name] = (tensors[name] + noise).astype(np.float32)


@pytest.fixture(scope="session")
def scrambled_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wrong model: MiniLM whose word embeddings are shuffled (it reads every word as another)."""
    return copy_model(tmp_path_factory.mktemp("models") / "minilm-scrambled", _scramble)


@pytest.fixture(scope="session")
def retuned_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A harmless new model version: MiniLM with one bias nudged (retrieval still works)."""
    return copy_model(tmp_path_factory.mktemp("models") / "minilm-retuned", _nudge)
