"""A cheap fingerprint of what a source holds now (no document is parsed).

Sensors compare it with the signature of the last ingest to decide whether a source changed.
"""

from __future__ import annotations

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.connectors.base import as_connector


def listing_signature(source: SourceConfig) -> str:
    """The source's connector's signature of its current listing."""
    return as_connector(source.connector).signature()


def source_available(source: SourceConfig) -> bool:
    """False while the source cannot be reached (its change is judged when it is back)."""
    return as_connector(source.connector).available()
