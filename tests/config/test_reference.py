"""The sources.yaml reference page is generated from the models and every setting is described."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.config.reference import reference_markdown, sections, undescribed

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration-reference.md"
UPDATE_ENV = "RAG_UPDATE_SNAPSHOTS"


def test_every_setting_has_a_description() -> None:
    """A field without `Field(description=…)` (or a model without a docstring) fails here."""
    assert undescribed(SourcesFile) == []


def test_an_undescribed_setting_is_reported() -> None:
    class Inner(BaseModel):
        """A section."""

        bare: int = 1
        told: int = Field(2, description="Said.")

    class Outer(BaseModel):
        """The root."""

        inner: Inner = Field(default_factory=Inner)
        items: list[Inner] = Field(default_factory=list)

    # the built-in connectors are always part of the reference; only the new ones matter here
    new = [m for m in undescribed(Outer) if not m.startswith("sources[]")]
    assert new == ["inner.bare"]
    assert [s.path for s in sections(Outer)] == ["", "inner"]
    assert sections(Outer)[1].also == ("items[]",)


def test_the_reference_page_is_current() -> None:
    """The checked-in page equals the generated one; RAG_UPDATE_SNAPSHOTS=1 rewrites it."""
    generated = reference_markdown(SourcesFile)
    if os.environ.get(UPDATE_ENV):
        PAGE.write_text(generated)
    assert PAGE.is_file(), f"{PAGE} is missing: run {UPDATE_ENV}=1 pytest {__file__}"
    assert PAGE.read_text() == generated, (
        f"{PAGE.name} is stale: regenerate with {UPDATE_ENV}=1 pytest {__file__}"
    )


def test_the_page_covers_every_section_and_connector() -> None:
    page = reference_markdown(SourcesFile)
    for heading in ("`pipeline.schedule`", "`index.qdrant.cluster.hnsw`", "`sources[]`"):
        assert f"## {heading}" in page
    for kind in ("beir", "filesystem", "object_storage", "sql", "web"):
        assert f"## `sources[].connector (type: {kind})`" in page
    assert "| `chunk_size` | int (≥ 16, ≤ 8192) | `200` |" in page
