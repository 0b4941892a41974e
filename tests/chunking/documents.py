"""Documents for chunking tests: small hand-made ones, real SciFact abstracts, a nasty one."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.models import Document, Section


def make_document(
    sections: list[Section], title: str = "Handbook", doc_id: str = "doc", source: str = "docs"
) -> Document:
    """A document with the given sections and a content hash of its text."""
    text = "\n\n".join(s.text for s in sections)
    return Document(
        id=doc_id,
        source=source,
        uri=f"file:///{doc_id}",
        content_hash=sha256_text(text),
        title=title,
        sections=sections,
    )


def paragraph(topic: str, sentences: int = 12) -> str:
    """Plain prose about `topic`, long enough to need several small chunks."""
    return " ".join(
        f"The {topic} policy rule number {i} applies to every team in the company."
        for i in range(sentences)
    )


def scifact_documents(scifact_dir: Path, limit: int) -> list[Document]:
    """The first `limit` SciFact abstracts as documents (title + one section)."""
    documents = []
    with (scifact_dir / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if len(documents) == limit:
                break
            row = json.loads(line)
            documents.append(
                make_document(
                    [Section(text=row["text"])],
                    title=row["title"],
                    doc_id=row["_id"],
                    source="scifact",
                )
            )
    return documents


def nasty_document() -> Document:
    """Text that defeats naive splitters: a 5,000-char word, huge headings, tiny sentences."""
    rng = random.Random(7)
    giant = "".join(rng.choice(string.ascii_letters + string.digits + "-_/.") for _ in range(5000))
    long_heading = "Heading " + " ".join(f"part{i}" for i in range(400))
    tiny = " ".join(f"Ok {i}." for i in range(600))
    table = "\n".join(" | ".join(f"r{r}c{c} 3.{r}{c}" for c in range(8)) for r in range(80))
    unicode = "Ünïcödé Straße naïve café — “quotes” 日本語テキスト 😀. " * 40
    return make_document(
        [
            Section(path=[long_heading, "Sub"], text=giant),
            Section(path=["Tiny sentences"], text=tiny),
            Section(path=["Table"], text=table),
            Section(path=[long_heading], text=f"A normal sentence. {giant[:300]} The end."),
            Section(path=[], text=unicode),
        ],
        title="Title " + "verylongtitle " * 300,
        doc_id="nasty",
    )
