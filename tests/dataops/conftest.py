"""Fixtures for the data-ops tests: a second, slightly different version of the real model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from rag_pipelines.embedding.resolve import bundled_model_path

WEIGHTS = "model.safetensors"
NUDGED = "encoder.layer.5.output.LayerNorm.bias"


@pytest.fixture(scope="session")
def retuned_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled MiniLM with one bias nudged: new weights, same architecture.

    It stands in for "the team fine-tuned the model": a different weights hash (so a new model
    identity), while retrieval still works.
    """
    target = tmp_path_factory.mktemp("models") / "minilm-retuned"
    source = bundled_model_path()
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(WEIGHTS))
    tensors = load_file(str(source / WEIGHTS))
    noise = np.random.default_rng(7).normal(0.0, 0.01, tensors[NUDGED].shape)
    tensors[NUDGED] = (tensors[NUDGED] + noise).astype(np.float32)
    save_file(tensors, str(target / WEIGHTS), metadata={"format": "pt"})
    return target
