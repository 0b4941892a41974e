"""Dagster code location for rag-pipelines (loaded by workspace.yaml)."""

import dagster as dg

from assets.definitions import build_definitions
from rag_pipelines.config import default_sources_path, load_sources_file


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions for $RAG_SOURCES (default ./sources.yaml), read when Dagster loads us."""
    path = default_sources_path()
    return build_definitions(load_sources_file(path), path.resolve())
