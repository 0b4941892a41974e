"""Apply PII redaction to a parsed document, keeping page offsets exact."""

from __future__ import annotations

import itertools
from collections import Counter

from rag_pipelines.ingest.models import Document, Section
from rag_pipelines.ingest.pii import PiiRedactor


def redact_document(document: Document, redactor: PiiRedactor) -> Document:
    """The document with personal data masked; counts go into its metadata (pii_*)."""
    counts: Counter[str] = Counter()
    sections: list[Section] = []
    for section in document.sections:
        # Redact page by page so each page's start offset can be recomputed exactly.
        starts = [offset for offset, _ in section.page_starts]
        cuts = sorted({0, *starts, len(section.text)})
        pieces: list[str] = []
        new_offsets: dict[int, int] = {}
        length = 0
        for start, end in itertools.pairwise(cuts):
            new_offsets[start] = length
            result = redactor.redact(section.text[start:end])
            counts.update(result.counts)
            pieces.append(result.text)
            length += len(result.text)
        path = []
        for heading in section.path:
            result = redactor.redact(heading)
            counts.update(result.counts)
            path.append(result.text)
        sections.append(
            Section(
                path=path,
                text="".join(pieces),
                page_starts=[(new_offsets.get(o, 0), p) for o, p in section.page_starts],
            )
        )
    title = redactor.redact(document.title)
    counts.update(title.counts)
    metadata = dict(document.metadata)
    metadata["pii_redactions"] = sum(counts.values())
    metadata.update({f"pii_{kind}": n for kind, n in counts.items()})
    return document.model_copy(
        update={"sections": sections, "title": title.text, "metadata": metadata}
    )
