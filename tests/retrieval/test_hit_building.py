"""Hits are built without validation (the query path's cost): they must equal validated ones."""

from __future__ import annotations

import uuid

import pytest

from rag_pipelines.hashing import point_uuid
from rag_pipelines.retrieval.models import Hit

PAYLOAD = {
    "chunk_id": "0123456789abcdef0123456789abcdef",
    "source": "docs",
    "document_id": "a/b.md",
    "document_uri": "file:///docs/a/b.md",
    "document_hash": "f" * 64,
    "document_modified_at": "2026-12-01T10:00:00+00:00",
    "title": "B",
    "section": ["Intro", "Scope"],
    "pages": [1, 2],
    "text": "Some text.",
    "injection_signals": ["ignore previous instructions"],
}


@pytest.mark.parametrize(
    "payload",
    [PAYLOAD, {"chunk_id": PAYLOAD["chunk_id"]}],  # everything / the minimum a payload holds
)
def test_unvalidated_hit_equals_a_validated_one(payload: dict[str, object]) -> None:
    hit = Hit.from_payload(3, 0.25, payload, "v1", "model@x", {"dense": 3}, 1.5)
    assert Hit.model_validate(hit.model_dump()) == hit
    assert hit.model_dump_json() == Hit.model_validate_json(hit.model_dump_json()).model_dump_json()
    assert hit.provenance.lineage_url == f"/v1/chunks/{payload['chunk_id']}/lineage?version=v1"


def test_hit_fields_take_their_types_from_loose_payloads() -> None:
    """model_construct skips coercion, so from_payload converts: pages stored as floats stay
    ints, a missing modification time stays None."""
    loose = {**PAYLOAD, "pages": [1.0], "document_modified_at": None}
    hit = Hit.from_payload(1, 1, loose, "v", "m")
    assert hit.provenance.pages == [1] and isinstance(hit.provenance.pages[0], int)
    assert hit.provenance.document_modified_at is None
    assert isinstance(hit.score, float) and hit.rerank_score is None and hit.ranks == {}


@pytest.mark.parametrize(
    "chunk_id",
    [
        "0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef" + "00ff" * 8,  # a 64-char sha256 id: first 32 used
        "0123456789ABCDEF0123456789ABCDEF",  # not lowercase: the uuid module's path
    ],
)
def test_point_uuid_matches_the_uuid_module(chunk_id: str) -> None:
    assert point_uuid(chunk_id) == str(uuid.UUID(hex=chunk_id[:32]))


def test_point_uuid_refuses_what_is_not_hex() -> None:
    with pytest.raises(ValueError):
        point_uuid("not-a-hex-chunk-id-at-all-xxxxxxxxxxxxxxx")
