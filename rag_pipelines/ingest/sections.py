"""Group parsed elements into heading-delimited sections (pure; no unstructured import)."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.ingest.models import Section

# Page furniture that repeats on every page and hurts retrieval.
SKIPPED_KINDS = frozenset({"Header", "Footer", "PageBreak", "PageNumber"})
HEADING_KINDS = frozenset({"Title"})


@dataclass(frozen=True)
class Element:
    """The parts of a parsed element that sectioning needs."""

    kind: str
    text: str
    page: int | None = None
    depth: int | None = None
    links: tuple[str, ...] = ()


def build_sections(
    elements: list[Element], heading_kinds: frozenset[str] = HEADING_KINDS
) -> list[Section]:
    """Sections of body text, each under the path of headings above it."""
    sections: list[Section] = []
    path: list[str] = []
    parts: list[str] = []
    page_starts: list[tuple[int, int]] = []
    length = 0

    def flush() -> None:
        nonlocal parts, page_starts, length
        if parts:
            sections.append(
                Section(path=list(path), text="\n\n".join(parts), page_starts=page_starts)
            )
        parts, page_starts, length = [], [], 0

    for element in elements:
        text = element.text.strip()
        if not text or element.kind in SKIPPED_KINDS:
            continue
        if element.kind in heading_kinds and len(text) <= 200:
            flush()
            depth = max(0, element.depth or 0)
            path = [*path[:depth], " ".join(text.split())]
            continue
        offset = length + (2 if parts else 0)
        if element.page is not None and (not page_starts or page_starts[-1][1] != element.page):
            page_starts.append((offset, element.page))
        parts.append(text)
        length = offset + len(text)
    flush()
    if not sections and heading_kinds:
        # Only headings (a one-line note, a title-only page): their text is the body.
        return build_sections(elements, frozenset())
    return sections
