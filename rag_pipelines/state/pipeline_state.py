"""A pipeline's state handles: its file store and, when configured, its metadata DB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.state.metadata import MetadataDB
from rag_pipelines.state.store import StateStore, open_state_store


@dataclass(frozen=True)
class PipelineState:
    """Where the files live (`store`) and where the shared rows live (`db`, or None: files)."""

    store: StateStore
    db: MetadataDB | None = None


def open_pipeline_state(
    url: str | None, metadata_db: str | None, root: Path, pipeline: str
) -> PipelineState:
    """The state `pipeline.state` names; the local data dir and LIVE.json when both are None."""
    store = open_state_store(f"{url.rstrip('/')}/{pipeline}" if url else None, root)
    return PipelineState(store, MetadataDB(metadata_db, pipeline) if metadata_db else None)
