"""Connectors: one module per source type, each a ConnectorSettings model implementing Connector.

The registry (`rag_pipelines.config.connectors`) maps `connector.type` to its class; third
parties register theirs through the entry point group `rag_pipelines.connectors`.
"""

from rag_pipelines.ingest.connectors.base import (
    Connector,
    Listing,
    SourceItem,
    as_connector,
    iso_time,
)

__all__ = ["Connector", "Listing", "SourceItem", "as_connector", "iso_time"]
