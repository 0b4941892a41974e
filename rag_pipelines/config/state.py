"""sources.yaml's `pipeline.state`: where runs keep state shared between machines."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from rag_pipelines.config.base import StrictModel
from rag_pipelines.state.store import STATE_SCHEMES, scheme_of

# SQLAlchemy dialects the metadata DB is tested on.
_DB_DIALECTS = ("postgresql+psycopg2://", "sqlite://")


class StateSettings(StrictModel):
    """Documents, chunks and index versions under `url`; pointer and vector cache in `metadata_db`.

    Both unset (the default): everything stays under `pipeline.data_dir`, as on one machine.
    """

    url: str | None = Field(
        None,
        description="fsspec URL of the shared file state (s3://bucket/prefix, gs://, az://, "
        "file:///mnt/shared); the data dir becomes a local cache of it.",
    )
    metadata_db: str | None = Field(
        None,
        description="SQLAlchemy URL holding the live pointer and the embedding cache "
        "(postgresql+psycopg2://… in a cluster, sqlite:///… on one machine).",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url is not None and scheme_of(url) not in STATE_SCHEMES:
            known = ", ".join(f"{s}://" for s in STATE_SCHEMES)
            raise ValueError(f"unknown scheme in {url!r}; use one of {known}")
        return url

    @field_validator("metadata_db")
    @classmethod
    def _known_dialect(cls, url: str | None) -> str | None:
        if url is None:
            return url
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            raise ValueError(
                "write postgresql+psycopg2://… (a plain postgresql:// picks psycopg 3, "
                "which is not installed)"
            )
        if not url.startswith(_DB_DIALECTS):
            raise ValueError(f"use one of {', '.join(_DB_DIALECTS)}, not {url!r}")
        return url

    @model_validator(mode="after")
    def _shared_needs_db(self) -> StateSettings:
        if self.url is not None and self.metadata_db is None:
            raise ValueError(
                "pipeline.state.url shares files between machines, so the live pointer and the "
                "embedding cache must be shared too: set pipeline.state.metadata_db "
                "(e.g. postgresql+psycopg2://… or ${RAG_STATE_DB})"
            )
        return self
