"""Embedding on many devices: one worker process per GPU on a node, one GPU pod per partition.

On one node, sentence-transformers' multi-process pool (`start_multi_process_pool`, then
`encode(..., pool=pool)`) runs one copy of the model per device and splits the texts between
them; the vectors are the single-process ones. Across nodes, each shard partition's embedding
run asks Kubernetes for GPUs through the `dagster-k8s/config` tag that dagster-k8s reads
(`K8sRunLauncher` from run tags, `k8s_job_executor` from op tags). No Dagster import here.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from rag_pipelines.embedding.device import DeviceUnavailable

log = logging.getLogger(__name__)

K8S_CONFIG_TAG = "dagster-k8s/config"
GPU_RESOURCE = "nvidia.com/gpu"
STOP_GRACE_S = 10.0  # seconds a worker gets to exit on SIGTERM before it is killed


def cuda_device_count() -> int:
    """GPUs torch can see."""
    import torch

    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def resolve_devices(
    devices: list[str] | None, count_gpus: Callable[[], int] = cuda_device_count
) -> list[str] | None:
    """The pool's devices, or None for plain single-process encoding.

    `["auto"]` means every visible GPU when there are at least two (one GPU or none: the
    single-process path, which already uses the GPU). Listed CUDA devices must exist.
    """
    if not devices:
        return None
    if devices == ["auto"]:
        gpus = count_gpus()
        return [f"cuda:{i}" for i in range(gpus)] if gpus >= 2 else None
    cuda = [int(d.split(":")[1]) for d in devices if d.startswith("cuda:")]
    if cuda:
        gpus = count_gpus()
        missing = [f"cuda:{i}" for i in cuda if i >= gpus]
        if missing:
            raise DeviceUnavailable(
                f"embedding.devices lists {missing} but this machine has {gpus} GPU(s); "
                "use devices: auto or list only present GPUs"
            )
    return list(devices)


def chunk_size_for(texts: int, workers: int, batch_size: int) -> int:
    """Texts per work item: whole batches, about four items per worker, at most 5,000."""
    per_item = math.ceil(texts / (workers * 4))
    return max(batch_size, min(5000, math.ceil(per_item / batch_size) * batch_size))


class DevicePool:
    """A sentence-transformers model encoding through a multi-process pool (started lazily)."""

    def __init__(self, model: Any, devices: list[str], batch_size: int, normalize: bool) -> None:
        self.model = model
        self.devices = devices
        self.batch_size = batch_size
        self.normalize = normalize
        self._pool: dict[str, Any] | None = None
        self._stop: weakref.finalize[Any, Any] | None = None  # stops the workers once

    @classmethod
    def for_model(
        cls, model: Any, devices: list[str] | None, batch_size: int, normalize: bool
    ) -> DevicePool | None:
        """A pool for the configured devices, or None when one process is the plan."""
        resolved = resolve_devices(devices)
        return cls(model, resolved, batch_size, normalize) if resolved else None

    def takes(self, texts: int) -> bool:
        """Worth splitting: more than one batch (a query or a small batch stays in-process)."""
        return texts > self.batch_size

    @property
    def started(self) -> bool:
        """The worker processes are running."""
        return self._pool is not None

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 vectors, one row per text, in input order."""
        if self._pool is None:
            log.info("starting an embedding pool on %s", ", ".join(self.devices))
            self._pool = self.model.start_multi_process_pool(target_devices=self.devices)
            self._stop = weakref.finalize(self, stop_pool, self._pool)
        vectors = self.model.encode(
            texts,
            pool=self._pool,
            batch_size=self.batch_size,
            chunk_size=chunk_size_for(len(texts), len(self.devices), self.batch_size),
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def close(self) -> None:
        """Stop the worker processes."""
        if self._stop is not None:
            self._stop()
        self._pool = self._stop = None


def stop_pool(pool: dict[str, Any]) -> None:
    """Stop a sentence-transformers pool: SIGTERM, then SIGKILL after STOP_GRACE_S.

    sentence-transformers' own stop joins without a timeout, so a worker that ignores SIGTERM
    (the ignore is inherited from a parent process that set it) hung its caller for ever.
    """
    for process in pool["processes"]:
        process.terminate()
    for process in pool["processes"]:
        process.join(STOP_GRACE_S)
        if process.is_alive():
            log.warning("embedding worker %s ignored SIGTERM; killing it", process.pid)
            process.kill()
            process.join()
        process.close()
    pool["input"].cancel_join_thread()
    pool["input"].close()
    pool["output"].close()


def gpu_k8s_config(
    gpus: int = 1,
    resource: str = GPU_RESOURCE,
    cpu: str | None = None,
    memory: str | None = None,
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The `dagster-k8s/config` value asking the pod for `gpus` GPUs (and optional CPU/memory).

    Pass it as `op_tags` of the embeddings asset (k8s_job_executor: a pod per step) and as run
    tags of per-partition runs (K8sRunLauncher: a pod per run).
    """
    if gpus < 1:
        raise ValueError(f"gpus must be at least 1, got {gpus}")
    limits: dict[str, str] = {resource: str(gpus)}
    requests: dict[str, str] = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = limits["memory"] = memory
    container: dict[str, Any] = {"resources": {"limits": limits}}
    if requests:
        container["resources"]["requests"] = requests
    config: dict[str, Any] = {"container_config": container}
    pod_spec: dict[str, Any] = {}
    if node_selector:
        pod_spec["node_selector"] = dict(node_selector)
    if tolerations:
        pod_spec["tolerations"] = [dict(t) for t in tolerations]
    if pod_spec:
        config["pod_spec_config"] = pod_spec
    return config


def gpu_tags(
    device: str, devices: list[str] | None, auto_gpus: int = 1, **k8s: Any
) -> dict[str, Any]:
    """Tags for one partition's embedding run: one GPU per listed CUDA device.

    `devices: auto` asks for `auto_gpus`; no `devices` asks for one GPU unless `device` is cpu
    or mps; a CPU-only pool asks for none (empty tags).
    """
    if devices == ["auto"]:
        gpus = auto_gpus
    elif devices:
        gpus = sum(d.startswith("cuda:") for d in devices)
    else:
        gpus = 0 if device in ("cpu", "mps") else 1
    return {K8S_CONFIG_TAG: gpu_k8s_config(gpus=gpus, **k8s)} if gpus else {}
