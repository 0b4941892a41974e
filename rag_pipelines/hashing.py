"""Stable identifiers from content: the same input always yields the same id."""

import hashlib
import re
import uuid

_LOWER_HEX32 = re.compile("[0-9a-f]{32}")


def sha256_text(*parts: str) -> str:
    """Hex sha256 of the parts joined by NUL (so ('ab','c') != ('a','bc'))."""
    digest = hashlib.sha256()
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\0")
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def point_uuid(chunk_id: str) -> str:
    """The Qdrant point id (a UUID) for a chunk id (32+ hex chars).

    A lowercase hex id (every id this project makes) is cut into the UUID's groups directly:
    the same string as `str(uuid.UUID(hex=...))` at a sixth of its cost, paid for every hit
    a query returns.
    """
    h = chunk_id[:32]
    if _LOWER_HEX32.fullmatch(h):
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(uuid.UUID(hex=h))
