"""Zip-based documents (docx, pptx, xlsx, epub, odt): refuse bombs before a parser inflates them.

Two checks, because a zip's declared sizes can lie: the sum of the sizes the central directory
declares, then every member actually inflated in bounded pieces (nothing is kept) with the
total counted, so a member that inflates past its declared size or the cap stops the read.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from rag_pipelines.ingest.sniff import CorruptFile, UnreadableFile

ZIP_FORMATS = frozenset({".docx", ".pptx", ".xlsx", ".epub", ".odt"})
_PIECE = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


class ExpandedTooLarge(UnreadableFile):
    """The archive inflates to more than the configured cap (a zip bomb, or simply too big)."""


def check_archive(path: Path, max_expanded_bytes: int) -> int:
    """Bytes the archive really inflates to; ExpandedTooLarge past the cap, CorruptFile if bad."""
    mb = max_expanded_bytes / 1024 / 1024
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            declared = sum(m.file_size for m in members)
            if declared > max_expanded_bytes:
                raise ExpandedTooLarge(
                    f"the archive declares {declared} bytes inflated, over max_expanded_mb={mb:g}"
                    " (a zip bomb?); refused before inflating"
                )
            with path.open("rb") as raw:
                total = 0
                for member in members:
                    total += _inflated_size(raw, archive, member, max_expanded_bytes - total)
            return total
    except zipfile.BadZipFile as exc:
        raise CorruptFile(f"a damaged zip archive: {exc}") from None


def _inflated_size(
    raw: BinaryIO, archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int
) -> int:
    """Inflate one member in pieces, stopping as soon as it passes `budget` or its declared size."""
    limit = min(budget, member.file_size)
    if member.compress_type == zipfile.ZIP_DEFLATED:
        size = _inflate_raw(raw, member, limit)
    else:  # stored, or a rarer method: zipfile's reader stops at the declared size itself
        size = 0
        with archive.open(member) as stream:
            while piece := stream.read(_PIECE):
                size += len(piece)
    if size > limit:
        raise ExpandedTooLarge(
            f"{member.filename!r} inflates past "
            + ("its declared size" if size > member.file_size else "the max_expanded_mb cap")
            + " (a zip bomb?); refused"
        )
    return size


def _inflate_raw(raw: BinaryIO, member: zipfile.ZipInfo, limit: int) -> int:
    """Inflated size of a deflated member read straight from the file, counted up to limit+1."""
    raw.seek(member.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise CorruptFile(f"a damaged zip archive: bad local header for {member.filename!r}")
    fields = _LOCAL_HEADER.unpack(header)
    raw.seek(fields[-2] + fields[-1], 1)  # skip the name and the extra field
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left = member.compress_size
    size = 0
    try:
        while left > 0 and not inflater.eof:
            data = raw.read(min(_PIECE, left))
            if not data:
                break
            left -= len(data)
            while data and size <= limit:
                size += len(inflater.decompress(data, _PIECE))
                data = inflater.unconsumed_tail
            if size > limit:
                return size
    except zlib.error as exc:
        raise CorruptFile(f"a damaged zip archive: {member.filename!r}: {exc}") from None
    return size
