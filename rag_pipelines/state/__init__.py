"""Where pipeline state lives: the local data dir (default) or an object store plus a metadata DB.

`store` (the StateStore protocol and its registry by URL scheme), `object_store` (fsspec),
`sync` (pull a prefix before a stage, push what it wrote after), `metadata` (the live pointer
as a compare-and-set row, and the engine shared by the embedding cache).
"""

from rag_pipelines.state.metadata import LivePointerConflict, MetadataDB
from rag_pipelines.state.pipeline_state import PipelineState, open_pipeline_state
from rag_pipelines.state.store import (
    STATE_SCHEMES,
    LocalStateStore,
    StateStore,
    StateStoreError,
    open_state_store,
)
from rag_pipelines.state.sync import pull_all, pushed, synced

__all__ = [
    "STATE_SCHEMES",
    "LivePointerConflict",
    "LocalStateStore",
    "MetadataDB",
    "PipelineState",
    "StateStore",
    "StateStoreError",
    "open_pipeline_state",
    "open_state_store",
    "pull_all",
    "pushed",
    "synced",
]
