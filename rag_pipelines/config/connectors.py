"""The connector registry: `sources[].connector.type` → the connector class that validates it.

Built-in connectors and third-party ones are both named as `module:Class` references; third
parties add theirs through the entry point group `rag_pipelines.connectors`. A reference is
imported only when a source uses its type, so this module depends on no connector.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from rag_pipelines.config.base import StrictModel

ENTRY_POINT_GROUP = "rag_pipelines.connectors"
BUILTIN: dict[str, str] = {
    "filesystem": "rag_pipelines.ingest.connectors.filesystem:FilesystemConnector",
    "beir": "rag_pipelines.ingest.connectors.beir:BeirConnector",
    "object_storage": "rag_pipelines.ingest.connectors.object_storage:ObjectStorageConnector",
    "sql": "rag_pipelines.ingest.connectors.sql:SqlConnector",
    "web": "rag_pipelines.ingest.connectors.web:WebConnector",
}
_registered: dict[str, str | type[ConnectorSettings]] = {}


class ConnectorSettings(StrictModel):
    """Base of every connector: a pydantic model of its settings, keyed by `type`.

    The parse bounds apply to whatever a connector yields (files, objects, pages, records).
    """

    type: str = Field(description="Which connector reads the source (the registry's name).")
    max_parse_seconds: float = Field(
        120.0, gt=0, description="Wall time to parse one file; past it: ParseTimeout."
    )
    max_text_mb: float = Field(
        16.0, gt=0, description="Text one file may hold (millions of characters): TooLarge."
    )
    max_expanded_mb: float = Field(
        256.0, gt=0, description="Bytes a docx/pptx/xlsx/epub/odt may inflate to: ExpandedTooLarge."
    )
    max_parse_memory_mb: int = Field(
        4096,
        ge=2048,  # the parsers' imports alone map about 1.6 GB of address space
        description="Address space of the parser process (RLIMIT_AS): TooLarge.",
    )


class UnknownConnector(ValueError):
    """No connector is registered under a type."""


class _TypeOnly(StrictModel):
    """Validates `type` alone, so an unknown type is reported at `connector.type`."""

    model_config = StrictModel.model_config | {"extra": "ignore"}
    type: str

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in known_types():
            raise _unknown(value)
        return value


def _unknown(type_name: str) -> UnknownConnector:
    return UnknownConnector(
        f"unknown connector type {type_name!r}; known types: {', '.join(known_types())} "
        f"(a third-party connector registers in the entry point group {ENTRY_POINT_GROUP})"
    )


@cache
def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def _references() -> dict[str, str | type[ConnectorSettings]]:
    return {**_entry_points(), **BUILTIN, **_registered}


def known_types() -> list[str]:
    """Every registered connector type, sorted."""
    return sorted(_references())


def register_connector(type_name: str, connector: str | type[ConnectorSettings]) -> None:
    """Register a connector class (or a `module:Class` reference) under a type, in-process."""
    _registered[type_name] = connector


def connector_class(type_name: str) -> type[ConnectorSettings]:
    """The connector class registered under `type_name` (UnknownConnector names the known)."""
    reference = _references().get(type_name)
    if reference is None:
        raise _unknown(type_name)
    if not isinstance(reference, str):
        return reference
    module, _, name = reference.partition(":")
    found = getattr(importlib.import_module(module), name)
    if not (isinstance(found, type) and issubclass(found, ConnectorSettings)):
        raise TypeError(f"connector {type_name!r} ({reference}) is not a ConnectorSettings class")
    return found


def validate_connector(value: Any, info: ValidationInfo) -> Any:
    """Validate a raw `connector:` mapping with the model its `type` names."""
    if isinstance(value, ConnectorSettings) or not isinstance(value, dict):
        return value
    _TypeOnly.model_validate(value)  # a missing or unknown type fails here, at connector.type
    return connector_class(str(value["type"])).model_validate(value, context=info.context)
