"""SentenceTransformerModel loads on the resolved device, in the resolved precision, batched."""

from __future__ import annotations

from typing import Any

import pytest
import sentence_transformers
import torch

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.device import DeviceUnavailable
from rag_pipelines.embedding.model import SentenceTransformerModel
from tests.embedding.fakes import FakeAccelerators


class Recorder:
    """What the loader asked of SentenceTransformer."""

    def __init__(self) -> None:
        self.devices: list[str] = []
        self.half_calls = 0


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Swap in a SentenceTransformer that records device and .half() but really loads on CPU."""
    seen = Recorder()

    class RecordingSentenceTransformer(sentence_transformers.SentenceTransformer):
        def __init__(self, path: str, device: str, **kwargs: Any) -> None:
            seen.devices.append(device)
            super().__init__(path, device="cpu", **kwargs)

        def half(self) -> Any:
            seen.half_calls += 1
            return super().half()

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", RecordingSentenceTransformer)
    return seen


@pytest.mark.parametrize(
    ("device", "precision", "cuda", "expected_device", "halved"),
    [
        ("auto", "auto", True, "cuda", True),
        ("cuda:1", "auto", True, "cuda:1", True),
        ("cuda", "fp32", True, "cuda", False),
        ("auto", "auto", False, "cpu", False),
    ],
)
def test_model_is_loaded_on_the_runtime(
    recorder: Recorder, device: str, precision: str, cuda: bool, expected_device: str, halved: bool
) -> None:
    """The model goes to the selected device and is cast to fp16 exactly when fp16 was chosen."""
    settings = EmbeddingSettings(device=device, precision=precision)
    model = SentenceTransformerModel(settings, accelerators=FakeAccelerators(cuda=cuda))
    assert recorder.devices == [expected_device]
    assert model.runtime.device == expected_device
    assert recorder.half_calls == int(halved)
    dtype = next(model._model.parameters()).dtype
    assert dtype == (torch.float16 if halved else torch.float32)


def test_missing_cuda_fails_before_loading(recorder: Recorder) -> None:
    """Asking for CUDA on a machine without it raises DeviceUnavailable and loads nothing."""
    with pytest.raises(DeviceUnavailable):
        SentenceTransformerModel(EmbeddingSettings(device="cuda"), FakeAccelerators(cuda=False))
    assert recorder.devices == []


@pytest.mark.parametrize("batch_size", [2, 64])
def test_encode_uses_the_configured_batch_size(
    minilm: Any, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> None:
    """encode passes settings.batch_size down, and the model runs ceil(n / batch) forward passes."""
    monkeypatch.setattr(minilm, "settings", EmbeddingSettings(device="cpu", batch_size=batch_size))
    monkeypatch.setattr(minilm, "onnx", None)  # the torch path (ONNX: test_onnx_backend)
    encode_kwargs: list[dict[str, Any]] = []
    forwards: list[int] = []
    inner = minilm._model
    real_encode, real_forward = inner.encode, inner.forward

    def spy_encode(texts: list[str], **kwargs: Any) -> Any:
        encode_kwargs.append(kwargs)
        return real_encode(texts, **kwargs)

    def spy_forward(features: dict[str, Any], **kwargs: Any) -> Any:
        forwards.append(int(features["input_ids"].shape[0]))
        return real_forward(features, **kwargs)

    monkeypatch.setattr(inner, "encode", spy_encode)
    monkeypatch.setattr(inner, "forward", spy_forward)
    vectors = minilm.encode([f"sentence number {i}" for i in range(5)])
    assert vectors.shape == (5, 384)
    assert [k["batch_size"] for k in encode_kwargs] == [batch_size]
    assert encode_kwargs[0]["normalize_embeddings"] is True
    assert forwards == ([2, 2, 1] if batch_size == 2 else [5])


def test_encode_of_nothing_is_an_empty_matrix(minilm: Any) -> None:
    """No texts gives a (0, dimension) float32 array without calling the model."""
    vectors = minilm.encode([])
    assert vectors.shape == (0, 384) and vectors.dtype == "float32"
