"""Decisions stored with a version (tuned fusion, reranker) that readers of the version need."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from rag_pipelines.index.layout import FUSION_RECORD, RERANKER_RECORD


class FusionRecord(BaseModel):
    """The fusion a version serves with, and the evidence for it."""

    k: int
    weights: dict[str, float]
    method: Literal["rrf", "minmax"] = "rrf"
    tuned_on: str
    tune_queries: int
    holdout_queries: int
    scores: dict[str, float] = Field(default_factory=dict)


def load_fusion_record(build_dir: Path) -> FusionRecord | None:
    """The tuned fusion of a version, if it was tuned."""
    path = build_dir / FUSION_RECORD
    return FusionRecord.model_validate_json(path.read_text()) if path.exists() else None


class RerankerRecord(BaseModel):
    """Which reranker a version uses, and whether it reranks by default."""

    status: str = Field(description="configured | trained | reused | disabled")
    kind: str = Field("cross-encoder", description="retrieval.rerank.kind it was built as.")
    model_path: str | None = None
    enabled_by_default: bool = False
    holdout: dict[str, float] = Field(default_factory=dict)
    training: dict[str, float] = Field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""
    settings_key: str = Field("", description="Rerank settings and training recipe it was made by.")


def load_reranker_record(build_dir: Path) -> RerankerRecord | None:
    """The reranker decision stored with a version, if any."""
    path = build_dir / RERANKER_RECORD
    if not path.exists():
        return None
    return RerankerRecord.model_validate_json(path.read_text(encoding="utf-8"))
