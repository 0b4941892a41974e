"""The ONNX Runtime backend: the same vectors as torch in fp32, a new model identity in int8."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.backend import BackendUnavailable, select_backend
from rag_pipelines.embedding.identity import configured_identity
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.embedding.onnx_encoder import (
    SPIN_ENV,
    cosines,
    cpu_session,
    single_text_tokenizer,
    spin_settings,
)
from rag_pipelines.embedding.onnx_export import artifact_dir
from rag_pipelines.errors import ConfigError, ModelLoadError


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export cache for this module."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def torch_model() -> SentenceTransformerModel:
    """The bundled MiniLM on torch."""
    return SentenceTransformerModel(EmbeddingSettings(device="cpu", backend="torch"))


@pytest.fixture(scope="module")
def onnx_model(onnx_dir: Path) -> SentenceTransformerModel:
    """The bundled MiniLM exported to ONNX (fp32)."""
    return SentenceTransformerModel(EmbeddingSettings(device="cpu", backend="onnx"), None, onnx_dir)


@pytest.fixture(scope="module")
def int8_model(onnx_dir: Path, onnx_model: SentenceTransformerModel) -> SentenceTransformerModel:
    """The fp32 export quantized to int8."""
    settings = EmbeddingSettings(device="cpu", backend="onnx-int8")
    return SentenceTransformerModel(settings, None, onnx_dir)


@pytest.fixture(scope="module")
def abstracts(scifact_dir: Path) -> list[str]:
    """80 SciFact abstracts of every length, and queries."""
    with (scifact_dir / "corpus.jsonl").open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line, _ in zip(handle, range(60), strict=False)]
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        texts += [json.loads(line)["text"] for line, _ in zip(handle, range(20), strict=False)]
    return texts


@pytest.fixture(scope="module")
def torch_vectors(torch_model: SentenceTransformerModel, abstracts: list[str]) -> np.ndarray:
    """torch's vectors of the abstracts: the reference the ONNX backends are compared with."""
    vectors = torch_model.encode(abstracts)
    vectors.flags.writeable = False  # shared by the tests below, so nobody may edit it
    return vectors


@pytest.mark.parametrize(
    ("backend", "device", "expected"),
    [
        ("auto", "cpu", "onnx"),
        ("auto", "cuda", "torch"),
        ("auto", "mps", "torch"),
        ("torch", "cpu", "torch"),
        ("onnx", "cpu", "onnx"),
        ("onnx-int8", "cpu", "onnx-int8"),
    ],
)
def test_backend_choice(backend: str, device: str, expected: str) -> None:
    """auto is ONNX Runtime on CPU and torch on an accelerator."""
    assert select_backend(backend, device) == expected


def test_onnx_on_a_gpu_is_refused_with_advice() -> None:
    """An ONNX backend configured with a CUDA device says which backend to use instead."""
    with pytest.raises(BackendUnavailable, match="use backend torch or auto"):
        select_backend("onnx", "cuda")


def test_onnx_vectors_match_torch_on_real_texts(
    torch_vectors: np.ndarray,
    onnx_model: SentenceTransformerModel,
    abstracts: list[str],
) -> None:
    """fp32 ONNX vectors equal torch's (cosine ≥ 0.9999 on every text), in the input order."""
    expected = torch_vectors
    got = onnx_model.encode(abstracts)
    assert got.shape == expected.shape == (len(abstracts), 384)
    assert cosines(got, expected).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    single = onnx_model.encode([abstracts[-1]])
    assert cosines(single, expected[-1:]).min() >= 0.9999


def test_fp32_onnx_keeps_the_fingerprint_and_int8_changes_it(
    torch_model: SentenceTransformerModel,
    onnx_model: SentenceTransformerModel,
    int8_model: SentenceTransformerModel,
) -> None:
    """Same vectors, same key; int8 vectors differ, so int8 is another model identity."""
    assert onnx_model.fingerprint.key == torch_model.fingerprint.key
    assert onnx_model.fingerprint.identity == torch_model.fingerprint.identity
    assert int8_model.fingerprint.key != torch_model.fingerprint.key
    assert int8_model.fingerprint.identity.endswith("+int8")
    assert int8_model.fingerprint.quantization == "int8"
    assert configured_identity(EmbeddingSettings(backend="onnx")) == (
        torch_model.fingerprint.identity
    )
    assert configured_identity(EmbeddingSettings(backend="onnx-int8")) == (
        int8_model.fingerprint.identity
    )


def test_int8_vectors_are_close_but_not_equal(
    torch_vectors: np.ndarray,
    int8_model: SentenceTransformerModel,
    abstracts: list[str],
) -> None:
    """Quantization changes the vectors (hence the new identity) but keeps their direction."""
    similarity = cosines(int8_model.encode(abstracts), torch_vectors)
    assert similarity.mean() > 0.85
    assert similarity.min() < 0.9999


def test_the_export_is_cached_by_fingerprint(
    onnx_dir: Path, onnx_model: SentenceTransformerModel, int8_model: SentenceTransformerModel
) -> None:
    """A second load reuses the export under the data dir instead of exporting again."""
    folder = artifact_dir(onnx_dir, onnx_model.fingerprint.key)
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    SentenceTransformerModel(EmbeddingSettings(device="cpu", backend="onnx"), None, onnx_dir)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert sorted(stamps) == ["model.fused.onnx", "model.int8.onnx", "model.onnx"]


def test_an_export_that_differs_from_torch_is_refused(
    tmp_path: Path, onnx_dir: Path, onnx_model: SentenceTransformerModel
) -> None:
    """A cached export that is not the model (here: the int8 file) is refused, not served."""
    key = onnx_model.fingerprint.key
    source, target = artifact_dir(onnx_dir, key), artifact_dir(tmp_path, key)
    target.mkdir(parents=True)
    shutil.copy(source / "model.int8.onnx", target / "model.onnx")
    shutil.copy(source / "model.int8.onnx", target / "model.fused.onnx")
    with pytest.raises(ModelLoadError, match="differs from torch"):
        SentenceTransformerModel(EmbeddingSettings(device="cpu", backend="onnx"), None, tmp_path)


@pytest.mark.parametrize("batch_size", [2, 64])
def test_onnx_batches_are_length_sorted_and_sized(
    onnx_model: SentenceTransformerModel, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    """ceil(n / batch) inference calls, longest texts first; vectors come back in input order."""
    encoder = onnx_model.onnx
    assert encoder is not None
    monkeypatch.setattr(encoder, "batch_size", batch_size)
    shapes: list[tuple[int, int]] = []
    real_run = encoder.session.run

    def spy_run(names: list[str], feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        shapes.append(feed["input_ids"].shape)
        return real_run(names, feed)

    monkeypatch.setattr(encoder.session, "run", spy_run)
    texts = ["a", "a much longer text with many more words in it", "mid length text", "b", "c"]
    vectors = onnx_model.encode(texts)
    assert [rows for rows, _ in shapes] == ([2, 2, 1] if batch_size == 2 else [5])
    if batch_size == 2:
        assert shapes[0][1] > shapes[1][1] >= shapes[2][1]  # padded lengths shrink
    one_by_one = np.stack([onnx_model.encode([t])[0] for t in texts])
    assert cosines(vectors, one_by_one).min() >= 0.9999


def test_a_single_query_takes_the_lean_path_with_the_same_vector(
    onnx_model: SentenceTransformerModel, abstracts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One text is tokenized by the Rust tokenizer (truncated like the batch path, long
    abstracts included) and pooled without a mask: the same vector as in a batch."""
    encoder = onnx_model.onnx
    assert encoder is not None and encoder._single is not None
    batch = onnx_model.encode(abstracts)
    calls: list[int] = []
    real_tokenize = encoder._tokenize

    def spy_tokenize(texts: list[str]) -> dict[str, np.ndarray]:
        calls.append(len(texts))
        return real_tokenize(texts)

    monkeypatch.setattr(encoder, "_tokenize", spy_tokenize)
    one_by_one = np.stack([onnx_model.encode([t])[0] for t in abstracts])
    assert calls == []  # no single text went through the transformers wrapper
    assert cosines(one_by_one, batch).min() >= 0.99999
    np.testing.assert_allclose(np.linalg.norm(one_by_one, axis=1), 1.0, atol=1e-5)


def test_the_lean_tokenizer_truncates_like_the_transformers_call(
    onnx_model: SentenceTransformerModel, abstracts: list[str]
) -> None:
    """Its ids equal the wrapper's for every text, cut at max_seq_length; a tokenizer without a
    Rust backend gets no lean path."""
    encoder = onnx_model.onnx
    assert encoder is not None
    tokenizer, limit = encoder.tokenizer, encoder.max_seq_length
    single = single_text_tokenizer(tokenizer, limit)
    assert single is not None
    longest = 0
    for text in abstracts:
        ids = single.encode(text.strip()).ids
        longest = max(longest, len(ids))
        assert ids == list(
            tokenizer([text.strip()], truncation=True, max_length=limit)["input_ids"][0]
        )
    assert longest == limit  # some abstracts were cut
    assert single_text_tokenizer(object(), limit) is None


def test_the_fp32_backend_serves_the_fused_export(
    onnx_dir: Path, onnx_model: SentenceTransformerModel
) -> None:
    """MiniLM (BERT) gets ONNX Runtime's fused attention; int8 stays on the plain export."""
    import onnx

    encoder = onnx_model.onnx
    assert encoder is not None and encoder.path.name == "model.fused.onnx"
    ops = {node.op_type for node in onnx.load(str(encoder.path)).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops
    plain = {n.op_type for n in onnx.load(str(encoder.path.with_name("model.onnx"))).graph.node}
    assert "Attention" not in plain


def test_a_fused_export_that_differs_falls_back_to_the_plain_one(
    tmp_path: Path,
    onnx_dir: Path,
    onnx_model: SentenceTransformerModel,
    torch_vectors: np.ndarray,
    abstracts: list[str],
) -> None:
    """A fused file that is not the model is skipped; the verified plain export serves."""
    key = onnx_model.fingerprint.key
    source, target = artifact_dir(onnx_dir, key), artifact_dir(tmp_path, key)
    target.mkdir(parents=True)
    shutil.copy(source / "model.onnx", target / "model.onnx")
    shutil.copy(source / "model.int8.onnx", target / "model.fused.onnx")
    settings = EmbeddingSettings(device="cpu", backend="onnx")
    model = SentenceTransformerModel(settings, None, tmp_path)
    assert model.onnx is not None and model.onnx.path.name == "model.onnx"
    assert cosines(model.encode(abstracts[:8]), torch_vectors[:8]).min() >= 0.9999


@pytest.mark.parametrize("turned_off", [False, True])
def test_an_architecture_without_fusions_uses_the_plain_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, turned_off: bool
) -> None:
    """No fusion for the model type (or RAG_ONNX_FUSE=0): no fused file, the plain export."""
    from rag_pipelines.embedding import onnx_export

    monkeypatch.setattr(onnx_export, "FUSABLE", {"bert": "bert"} if turned_off else {})
    if turned_off:
        monkeypatch.setenv(onnx_export.FUSE_ENV, "0")
    settings = EmbeddingSettings(device="cpu", backend="onnx")
    model = SentenceTransformerModel(settings, None, tmp_path)
    assert model.onnx is not None and model.onnx.path.name == "model.onnx"
    assert not list(tmp_path.rglob("model.fused.*"))


def test_a_failed_fusion_is_remembered_and_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fusion failing once leaves a marker: later loads go straight to the plain export."""
    from rag_pipelines.embedding import onnx_export

    calls: list[Path] = []

    def failing(st_model: object, kind: str, path: Path) -> None:
        calls.append(path)
        raise ValueError("the attention pattern was not recognised")

    monkeypatch.setattr(onnx_export, "export_fused", failing)
    for _ in range(2):
        model = SentenceTransformerModel(
            EmbeddingSettings(device="cpu", backend="onnx"), None, tmp_path
        )
        assert model.onnx is not None and model.onnx.path.name == "model.onnx"
    assert len(calls) == 1
    assert [p.name for p in tmp_path.rglob("model.fused.*")] == ["model.fused.unavailable"]


@pytest.mark.parametrize(
    ("value", "allow", "stop"),
    [(None, "1", "1"), ("run", "1", "1"), ("1", "1", "0"), ("0", "0", "0"), (" RUN ", "1", "1")],
)
def test_sessions_spin_as_rag_onnx_spin_says(
    onnx_model: SentenceTransformerModel,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    allow: str,
    stop: str,
) -> None:
    """Default: threads spin during a call and stop when it returns; 1 spins between calls too;
    0 never spins."""
    if value is None:
        monkeypatch.delenv(SPIN_ENV, raising=False)
    else:
        monkeypatch.setenv(SPIN_ENV, value)
    assert onnx_model.onnx is not None
    options = cpu_session(onnx_model.onnx.path).get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == allow
    assert options.get_session_config_entry("session.force_spinning_stop") == stop


def test_an_unknown_spin_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo is refused with the values that work, not silently read as 'never spin'."""
    monkeypatch.setenv(SPIN_ENV, "yes")
    with pytest.raises(ConfigError, match="run \\(the default\\), 1 or 0"):
        spin_settings()
