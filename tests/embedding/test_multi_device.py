"""Embedding on many devices: device plans, the GPU tags of partition runs, and the real pool."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import numpy as np
import pytest
from pydantic import ValidationError

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.device import DeviceUnavailable
from rag_pipelines.embedding.multi_device import (
    K8S_CONFIG_TAG,
    chunk_size_for,
    gpu_k8s_config,
    gpu_tags,
    resolve_devices,
)


@pytest.mark.parametrize(
    ("devices", "gpus", "expected"),
    [
        (None, 8, None),
        (["auto"], 0, None),
        (["auto"], 1, None),
        (["auto"], 4, ["cuda:0", "cuda:1", "cuda:2", "cuda:3"]),
        (["cuda:1", "cuda:0"], 2, ["cuda:1", "cuda:0"]),
        (["cpu", "cpu"], 0, ["cpu", "cpu"]),
    ],
)
def test_resolve_devices(devices: list[str] | None, gpus: int, expected: list[str] | None) -> None:
    """auto takes every GPU when there are two or more; listed devices are kept in order."""
    assert resolve_devices(devices, lambda: gpus) == expected


def test_missing_gpu_is_named() -> None:
    """A listed GPU the machine lacks is refused with the count it has."""
    with pytest.raises(DeviceUnavailable, match=r"\['cuda:2'\] but this machine has 2 GPU"):
        resolve_devices(["cuda:0", "cuda:2"], lambda: 2)


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        ([], "list of 1-64 devices"),
        (["gpu0"], "unknown device(s) ['gpu0']"),
        (["auto", "cuda:0"], "`auto` stands alone"),
        (["cuda:0", "cuda:0"], "listed twice"),
        (["cpu", "cuda:0"], "mixes cpu and cuda"),
    ],
)
def test_bad_devices_are_refused(devices: Any, message: str) -> None:
    """embedding.devices errors say what to write instead."""
    with pytest.raises(ValidationError) as raised:
        EmbeddingSettings(devices=devices)
    assert message in str(raised.value)


def test_devices_auto_string_becomes_a_list() -> None:
    """`devices: auto` (a string in YAML) is stored as ["auto"]."""
    assert EmbeddingSettings.model_validate({"devices": "auto"}).devices == ["auto"]


@pytest.mark.parametrize(
    ("texts", "workers", "batch", "expected"),
    [(10, 2, 64, 64), (10_000, 2, 64, 1280), (10_000_000, 8, 64, 5000), (512, 2, 32, 64)],
)
def test_chunk_size_is_whole_batches(texts: int, workers: int, batch: int, expected: int) -> None:
    """Work items are whole batches, about four per worker, capped at 5,000 texts."""
    assert chunk_size_for(texts, workers, batch) == expected


def test_gpu_tags_ask_k8s_for_gpus() -> None:
    """The dagster-k8s/config tag asks for one GPU per listed device, plus node placement."""
    tags = gpu_tags(
        "auto",
        ["cuda:0", "cuda:1"],
        memory="16Gi",
        node_selector={"cloud.google.com/gke-accelerator": "nvidia-l4"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    assert tags == {
        K8S_CONFIG_TAG: {
            "container_config": {
                "resources": {
                    "limits": {"nvidia.com/gpu": "2", "memory": "16Gi"},
                    "requests": {"memory": "16Gi"},
                }
            },
            "pod_spec_config": {
                "node_selector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
                "tolerations": [
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                ],
            },
        }
    }
    assert json.loads(json.dumps(tags)) == tags  # Dagster's rule for non-string tag values


@pytest.mark.parametrize(
    ("device", "devices", "gpus"),
    [
        ("auto", None, "1"),
        ("cuda:1", None, "1"),
        ("cpu", None, None),
        ("cpu", ["cpu", "cpu"], None),
        ("auto", ["auto"], "4"),
    ],
)
def test_gpu_count_per_run(device: str, devices: list[str] | None, gpus: str | None) -> None:
    """One GPU by default, one per listed GPU, `auto_gpus` for auto, none for CPU embedding."""
    tags = gpu_tags(device, devices, auto_gpus=4)
    got = tags[K8S_CONFIG_TAG]["container_config"]["resources"]["limits"] if tags else {}
    assert got.get("nvidia.com/gpu") == gpus


def test_dagster_accepts_the_tags_as_op_tags() -> None:
    """An asset carrying the tags loads, and its op exposes them to the k8s executor."""

    @dg.asset(op_tags=gpu_tags("auto", None))
    def embeddings() -> None:
        """Stand-in for the embeddings asset."""

    op_tags = embeddings.op.tags
    assert json.loads(op_tags[K8S_CONFIG_TAG]) == gpu_k8s_config(gpus=1)


def test_pool_on_two_cpu_processes_matches_single_process(
    minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker processes (devices [cpu, cpu]) give the single-process vectors, in order.

    Regression: the workers here inherit an ignored SIGTERM, and closing the pool hung for ever.
    """
    import signal
    import time

    from rag_pipelines.embedding import multi_device
    from rag_pipelines.embedding.model import SentenceTransformerModel

    monkeypatch.setattr(multi_device, "STOP_GRACE_S", 2.0)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the workers

    texts = [
        f"Claim {i}: protein {i % 5} regulates gene expression in cell line {i}." for i in range(20)
    ]
    texts[3] = "A much longer sentence " * 12  # padding differs between batches
    pooled = SentenceTransformerModel(
        EmbeddingSettings(device="cpu", devices=["cpu", "cpu"], batch_size=4)
    )
    assert pooled.pool is not None and not pooled.pool.started
    try:
        got = pooled.encode(texts)
        assert pooled.pool.started and len(pooled.pool.devices) == 2
        want = minilm.encode(texts)
        assert got.shape == want.shape == (20, 384)
        np.testing.assert_allclose(got, want, atol=1e-5)
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        single = pooled.encode(texts[:3])  # one batch or less stays in-process
        np.testing.assert_allclose(single, want[:3], atol=1e-5)
    finally:
        signal.signal(signal.SIGTERM, previous)
        started = time.monotonic()
        pooled.pool.close()
        assert time.monotonic() - started < 30
