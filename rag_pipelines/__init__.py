"""rag-pipelines: declarative RAG data pipelines (library and service; no Dagster imports)."""

__version__ = "0.1.0"
