"""Hostile inputs built on the fly: zip bombs (honest and lying sizes), a hanging parser."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"/>'
)


def zip_bomb(path: Path, member: str, inflated_mb: int, declared: int | None = None) -> Path:
    """A zip whose `member` deflates `inflated_mb` MiB of spaces to a few KiB on disk.

    `declared` puts a false (small) uncompressed size in both headers, as an attacker would.
    """
    piece = b" " * (1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = b"".join(deflater.compress(piece) for _ in range(inflated_mb)) + deflater.flush()
    crc = 0
    for _ in range(inflated_mb):
        crc = zlib.crc32(piece, crc)
    size = declared if declared is not None else inflated_mb << 20
    entries = [(b"[Content_Types].xml", DOCX_TYPES, 0, len(DOCX_TYPES), zlib.crc32(DOCX_TYPES))]
    entries.append((member.encode(), data, 8, size, crc))
    body, central = b"", b""
    for name, payload, method, usize, checksum in entries:
        offset = len(body)
        fields = (20, 0, method, 0, 0, checksum, len(payload), usize, len(name), 0)
        body += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name + payload
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(central), len(body), 0)
    path.write_bytes(body + central + end)
    return path


def hang(seconds: float) -> str:
    """A parser that never finishes in time."""
    time.sleep(seconds)
    return "finished"


def allocate(mb: int) -> int:
    """A parser that needs `mb` MiB at once."""
    return len(bytearray(mb << 20))
