"""Parse one file with unstructured into a Document (offline)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from rag_pipelines.ingest.archive import ZIP_FORMATS, check_archive
from rag_pipelines.ingest.connectors.base import SourceItem
from rag_pipelines.ingest.limits import MB, ParseLimits, TooLarge
from rag_pipelines.ingest.models import Document, Section
from rag_pipelines.ingest.offline import prepare_unstructured
from rag_pipelines.ingest.sections import Element, build_sections
from rag_pipelines.ingest.sniff import (
    TEXT_SUFFIXES,
    FileVanished,
    TooDeeplyNested,
    check_file,
    explain_no_text,
)
from rag_pipelines.ingest.worker import POOL

# Extensions unstructured handles with the dependencies we install.
SUPPORTED_EXTENSIONS = frozenset(
    {
        ".md",
        ".markdown",
        ".txt",
        ".text",
        ".html",
        ".htm",
        ".xhtml",
        ".pdf",
        ".docx",
        ".pptx",
        ".xlsx",
        ".eml",
        ".epub",
        ".csv",
        ".tsv",
        ".rst",
        ".xml",
        ".json",
    }
)


class UnsupportedFormat(ValueError):
    """The file's extension has no parser."""


class EmptyDocument(ValueError):
    """Parsing succeeded but found no text."""


def parse_item(
    item: SourceItem,
    source: str,
    metadata: dict[str, Any] | None = None,
    fallback_encoding: str = "cp1252",
    limits: ParseLimits | None = None,
) -> Document:
    """A Document from a connector item: BEIR records as-is, files through unstructured."""
    limits = limits or ParseLimits()
    if item.path is None:
        # A record (a row, a BEIR line) is bounded as a file's text is: it never reaches a parser.
        chars = len(item.text or "")
        if chars > limits.text_chars:
            raise TooLarge(
                f"{chars} characters of text, over max_text_mb={limits.text_chars / MB:g}: "
                "shorten the record, or raise the source's max_text_mb"
            )
        sections = [Section(path=[], text=item.text or "")] if (item.text or "").strip() else []
        if not sections:
            raise EmptyDocument("record has no text")
        return _document(item, source, item.title or item.id, ["NarrativeText"], sections, metadata)
    path = item.path
    supported = path.suffix.lower() in SUPPORTED_EXTENSIONS
    encoding = check_file(path, fallback_encoding, item.encoding) if supported else None
    check_size(path, limits)
    elements, kinds, title = partition_file(path, encoding)
    sections = build_sections(elements)
    chars = sum(len(s.text) for s in sections)
    if chars > limits.text_chars:
        raise TooLarge(f"{chars} characters of text, over max_text_mb={limits.text_chars >> 20}")
    if not sections:
        raise explain_no_text(path) or EmptyDocument(
            f"no text found in {path.name} (a scanned image without a text layer?)"
        )
    title = title or item.title  # e.g. a web page's <title>
    document = _document(item, source, title or path.stem, kinds, sections, metadata)
    # A renamed file with the same content must embed the same text: a title that is only the
    # file name is shown to users but kept out of the embedded context header.
    document.title_from_content = title is not None
    document.links = list(dict.fromkeys(link for e in elements for link in e.links))
    if encoding is not None and encoding not in ("utf-8", "utf-8-sig"):
        document.metadata["encoding"] = (
            encoding  # not UTF-8 (declared, or a fallback): worth knowing
        )
    return document


def parse_source_item(
    item: SourceItem,
    source: str,
    open_bytes: Callable[[SourceItem], bytes],
    limits: ParseLimits | None = None,
) -> Document:
    """A Document from any connector item, parsed in a bounded worker process.

    Bytes without a file go through a temporary one that keeps the item's own name, so the
    parser picks the format by its extension and a title that is only the name is the item's
    name, not a temporary one.
    """
    limits = limits or ParseLimits()
    if item.path is not None or item.text is not None:
        document = parse_in_worker(item, source, limits)
    else:
        data = open_bytes(item)
        name = item.file_name or PurePosixPath(item.id).name
        with tempfile.TemporaryDirectory(prefix="rag-item-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            document = parse_in_worker(replace(item, path=path), source, limits)
    if item.access_groups is not None:
        document.access_groups = list(item.access_groups)
    if item.links is not None:
        document.links = list(item.links)
    return document


def parse_in_worker(item: SourceItem, source: str, limits: ParseLimits) -> Document:
    """parse_item in a worker process, killed past `limits.seconds`, capped in memory."""
    metadata = dict(item.metadata)
    if item.path is None:  # a record, not a file: nothing to bound
        return parse_item(item, source, metadata, item.fallback_encoding, limits)
    return POOL.run(
        parse_item,
        (item, source, metadata, item.fallback_encoding, limits),
        limits.seconds,
        limits.memory_bytes,
        warm_up,
    )


def warm_up() -> None:
    """Import the parsers once per worker, so their import time is not charged to a file."""
    import importlib

    prepare_unstructured()
    for kind in ("auto", "md", "html", "pdf", "docx", "pptx", "xlsx", "email", "epub"):
        importlib.import_module(f"unstructured.partition.{kind}")


def check_size(path: Path, limits: ParseLimits) -> None:
    """Refuse before parsing: a zip format inflating past the cap, a text file over the cap."""
    suffix = path.suffix.lower()
    if suffix in ZIP_FORMATS:
        check_archive(path, limits.expanded_bytes)
    elif suffix in TEXT_SUFFIXES and path.stat().st_size > limits.text_chars:
        raise TooLarge(
            f"{path.stat().st_size} bytes of text, over max_text_mb={limits.text_chars >> 20}"
        )


def partition_file(
    path: Path, encoding: str | None = None
) -> tuple[list[Element], list[str], str | None]:
    """Elements, element kinds and a title for one file (`encoding`: of a text format)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise UnsupportedFormat(f"no parser for {suffix or 'files without an extension'}")
    prepare_unstructured()
    from unstructured.partition.auto import partition

    kwargs: dict[str, Any] = {"strategy": "fast"} if suffix == ".pdf" else {}
    if encoding is not None:
        kwargs["encoding"] = encoding  # unstructured's own guess is often wrong on short texts
    try:
        raw = partition(filename=str(path), **kwargs)
    except RecursionError:
        raise TooDeeplyNested("nested too deeply for the parser (recursion limit)") from None
    except FileNotFoundError:
        raise FileVanished("the file was deleted or moved while it was parsed") from None
    elements = [
        Element(
            kind=str(el.category),
            text=str(el.text or ""),
            page=getattr(el.metadata, "page_number", None),
            depth=getattr(el.metadata, "category_depth", None),
            links=tuple(str(u) for u in (getattr(el.metadata, "link_urls", None) or ())),
        )
        for el in raw
    ]
    kinds = sorted({e.kind for e in elements})
    return elements, kinds, _title(raw, elements)


def _title(raw: list[Any], elements: list[Element]) -> str | None:
    for el in raw:
        subject = getattr(el.metadata, "subject", None)
        if subject:
            return str(subject).strip()
    for element in elements:
        if element.kind == "Title" and len(element.text) <= 200 and _readable(element.text):
            return " ".join(element.text.split())
    return None


def _readable(text: str) -> bool:
    """Not a stray stamp like 'n u J' (rotated arXiv margins come out letter by letter)."""
    words = re.findall(r"[^\W\d_]{3,}", text)
    return bool(words) and sum(len(w) for w in words) >= 6


def _document(
    item: SourceItem,
    source: str,
    title: str,
    kinds: list[str],
    sections: list[Section],
    metadata: dict[str, Any] | None,
) -> Document:
    return Document(
        id=item.id,
        source=source,
        uri=item.uri,
        content_hash=item.content_hash,
        modified_at=item.modified_at,
        size_bytes=item.size_bytes,
        title=title,
        element_types=kinds,
        sections=sections,
        metadata=dict(metadata or {}),
    )
