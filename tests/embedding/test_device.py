"""Device and precision choice: auto → cuda → mps → cpu, fp16 only where it pays (CUDA)."""

from __future__ import annotations

import pytest

from rag_pipelines.embedding.device import DeviceUnavailable, Runtime, select_runtime
from tests.embedding.fakes import FakeAccelerators


@pytest.mark.parametrize(
    ("device", "precision", "cuda", "mps", "expected"),
    [
        ("auto", "auto", True, True, Runtime("cuda", "fp16")),
        ("auto", "auto", False, True, Runtime("mps", "fp32")),
        ("auto", "auto", False, False, Runtime("cpu", "fp32")),
        ("auto", "fp32", True, False, Runtime("cuda", "fp32")),
        ("cuda", "auto", True, False, Runtime("cuda", "fp16")),
        ("cuda:1", "auto", True, False, Runtime("cuda:1", "fp16")),
        ("cuda:1", "fp32", True, False, Runtime("cuda:1", "fp32")),
        ("mps", "auto", True, True, Runtime("mps", "fp32")),
        ("mps", "fp16", False, True, Runtime("mps", "fp16")),
        ("cpu", "auto", True, True, Runtime("cpu", "fp32")),
        ("cpu", "fp32", False, False, Runtime("cpu", "fp32")),
    ],
)
def test_select_runtime(
    device: str, precision: str, cuda: bool, mps: bool, expected: Runtime
) -> None:
    """The configured device and precision resolve as the table says."""
    assert select_runtime(device, precision, FakeAccelerators(cuda, mps)) == expected


@pytest.mark.parametrize(
    ("device", "precision", "cuda", "mps", "message"),
    [
        ("cuda", "auto", False, True, "CUDA is not available"),
        ("cuda:1", "fp16", False, False, "CUDA is not available"),
        ("mps", "auto", True, False, "MPS is not available"),
        ("cpu", "fp16", True, True, "fp16 needs a GPU"),
        ("auto", "fp16", False, False, "fp16 needs a GPU"),
    ],
)
def test_select_runtime_refuses(
    device: str, precision: str, cuda: bool, mps: bool, message: str
) -> None:
    """A device the machine lacks, or fp16 on CPU, is an error that says what is wrong."""
    with pytest.raises(DeviceUnavailable, match=message):
        select_runtime(device, precision, FakeAccelerators(cuda, mps))
