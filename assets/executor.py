"""The executor: one process per run here; one Kubernetes job per step in a cluster."""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.multi_device import gpu_tags

EXECUTOR_ENV = "RAG_DAGSTER_EXECUTOR"


def build_executor() -> Any:
    """in_process (default: the model loads once, the Edge shard opens once per run), or
    dagster-k8s' k8s_job_executor when $RAG_DAGSTER_EXECUTOR is `k8s_job` (deploy/helm)."""
    chosen = os.environ.get(EXECUTOR_ENV) or "in_process"
    if chosen == "in_process":
        return dg.in_process_executor
    if chosen == "k8s_job":
        try:
            from dagster_k8s import k8s_job_executor
        except ImportError as exc:
            raise RuntimeError(
                f"{EXECUTOR_ENV}=k8s_job needs the dagster-k8s package (the deploy image has it)"
            ) from exc
        return k8s_job_executor
    raise ValueError(f"{EXECUTOR_ENV} must be in_process or k8s_job, not {chosen!r}")


def gpu_step_tags(embedding: EmbeddingSettings) -> dict[str, Any]:
    """Op tags that put the embedding step's pod on a GPU node, one GPU per configured CUDA
    device (read by k8s_job_executor only, so they are added only under it)."""
    if os.environ.get(EXECUTOR_ENV) != "k8s_job":
        return {}
    return gpu_tags(
        embedding.device,
        embedding.devices,
        node_selector={"rag-pipelines/accelerator": "nvidia-gpu"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
