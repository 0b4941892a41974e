"""Stable identifiers from content: the same input always yields the same id."""

import hashlib
import uuid


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
    """The Qdrant point id (a UUID) for a chunk id (32+ hex chars)."""
    return str(uuid.UUID(hex=chunk_id[:32]))
