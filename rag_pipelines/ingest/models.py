"""Documents as the pipeline keeps them after parsing."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Section(BaseModel):
    """A run of document text under one heading path."""

    path: list[str] = Field(default_factory=list)
    text: str
    page_starts: list[tuple[int, int]] = Field(
        default_factory=list, description="(offset in text, page number) where a page begins."
    )

    def pages_between(self, start: int, end: int) -> list[int]:
        """Page numbers the text range [start, end) lies on."""
        pages: list[int] = []
        current: int | None = None
        for offset, page in self.page_starts:
            if offset <= start:
                current = page
            elif offset < end and page not in pages:
                pages.append(page)
        if current is not None and current not in pages:
            pages.insert(0, current)
        return sorted(pages)


class Document(BaseModel):
    """A parsed document with its provenance; `id` is unique within its source."""

    id: str
    source: str
    uri: str
    content_hash: str
    modified_at: str | None = None
    size_bytes: int | None = None
    title: str
    title_from_content: bool = Field(
        True, description="False when the title is only the file name (not embedded then)."
    )
    element_types: list[str] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)
    links: list[str] = Field(
        default_factory=list, description="Link targets (href) in the document."
    )
    access_groups: list[str] | None = Field(
        None, description="Groups from the source's own metadata; None: the source's settings."
    )

    @property
    def text(self) -> str:
        """All section text, in order."""
        return "\n\n".join(s.text for s in self.sections)

    @property
    def pages(self) -> list[int]:
        """Every page number known for the document."""
        return sorted({p for s in self.sections for _, p in s.page_starts})


class IngestFailure(BaseModel):
    """A document that could not be read or parsed, with a readable reason."""

    source: str
    document_id: str
    uri: str
    reason: str
    error_type: str
