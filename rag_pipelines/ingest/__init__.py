"""Ingestion: connectors list documents, unstructured parses them."""

from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from rag_pipelines.ingest.models import Document, IngestFailure, Section

__all__ = ["Document", "IngestFailure", "IngestReport", "Section", "ingest_source"]
