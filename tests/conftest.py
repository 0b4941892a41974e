"""Shared fixtures: the shared data sets, the real model, and a deterministic fake embedder."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.fingerprint import ModelFingerprint

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One ONNX export of MiniLM per machine for the whole suite (keyed by fingerprint and torch
# version), instead of one per temporary data dir; subprocesses (Dagster runs) inherit it.
os.environ.setdefault(
    "RAG_ONNX_CACHE", str(Path(tempfile.gettempdir()) / "rag-pipelines-test-onnx")
)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RAG_SHARED_DATA", REPO.parent / "shared" / "data"))


def _shared(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"shared data set {name!r} not found at {path} (set RAG_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def scifact_dir() -> Path:
    """The BEIR SciFact development split (skips if ../shared/data is absent)."""
    return _shared("scifact")


@pytest.fixture(scope="session")
def mixed_docs_dir() -> Path:
    """23 real documents in many formats (skips if ../shared/data is absent)."""
    return _shared("mixed-docs")


@pytest.fixture(scope="session")
def minilm() -> Iterator[object]:
    """The real all-MiniLM-L6-v2 model, loaded once per test session."""
    from rag_pipelines.embedding.model import SentenceTransformerModel

    yield SentenceTransformerModel(EmbeddingSettings(device="cpu"))


@pytest.fixture(scope="session")
def tokenizer(minilm: object) -> object:
    """The real model's tokenizer (counts and cuts in model tokens)."""
    return minilm.tokenizer  # type: ignore[attr-defined]


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder: fast plumbing tests, never quality claims."""

    def __init__(self, dimension: int = 64, name: str = "fake-hash") -> None:
        self.fingerprint = ModelFingerprint(
            name=name, revision="test", dimension=dimension, normalize=True
        )
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        """One normalized vector per text."""
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.fingerprint.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(
                    hashlib.blake2b(token.encode(), digest_size=8).digest(), "little"
                )
                out[row, h % self.fingerprint.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    """A fresh deterministic fake embedder."""
    return FakeEmbedder()


def _require(what: str, available: bool, how: str) -> None:
    """Skip (locally) or fail (in CI, where .ci/run installs it) when a server is missing."""
    if available:
        return
    message = f"{what} is not installed: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A real PostgreSQL server on 127.0.0.1 for the whole session (throwaway cluster)."""
    from tests.servers.postgres import postgres_bin_dir, running_postgres

    _require("PostgreSQL", postgres_bin_dir() is not None, "apt-get install postgresql")
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """A real S3-compatible server (moto) on 127.0.0.1 for the whole session."""
    from tests.servers.s3 import running_s3

    with running_s3() as server:
        yield server
