"""Writes to a generation collection: points valid from one version's sequence number to another.

A generation collection holds every version of its generation at once. Each point carries the
integer payload fields `valid_from` (the sequence number of the first version holding it) and
`valid_to` (of the first version no longer holding it; OPEN while the newest still does), so a
version `s` is exactly the points with valid_from <= s < valid_to. A point's id is derived from
its key (chunk id + a hash of everything it holds) and the version that wrote it, so a chunk
edited and later edited back gets a second point and the old interval stays intact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from qdrant_client import models

from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.vector_store import VALID_FROM, VALID_TO

OPEN = 2**62  # valid_to of a point that the newest version still holds
POINT_KEY = "point_key"  # payload field: chunk id + content hash, the same in every version
GENERATION_FIELDS = (VALID_FROM, VALID_TO, POINT_KEY)
_UNSTAMPED = ("index_version", *GENERATION_FIELDS)  # not part of what a point holds
_SCROLL = 1024


def point_key(payload: dict[str, Any], *extra: str) -> str:
    """Chunk id and a hash of the payload (its version stamps left out) and `extra` parts."""
    body = {k: v for k, v in payload.items() if k not in _UNSTAMPED}
    digest = sha256_text(json.dumps(body, sort_keys=True, default=str), *extra)
    return f"{payload['chunk_id']}:{digest[:32]}"


def point_id(key: str, sequence: int) -> str:
    """The 32-hex id of the point that version `sequence` writes for `key`."""
    return sha256_text(key, str(sequence))[:32]


def stamped(payload: dict[str, Any], key: str, sequence: int) -> dict[str, Any]:
    """A payload valid from version `sequence` on."""
    return {**payload, POINT_KEY: key, VALID_FROM: sequence, VALID_TO: OPEN}


class GenerationWriter:
    """In-place updates of one generation collection through qdrant-client."""

    def __init__(self, store: ClientVectorStore, name: str) -> None:
        self.store = store
        self.name = name

    @property
    def _client(self) -> Any:
        return self.store.client

    def create(self, dimension: int | None, sparse: bool = False) -> None:
        """A new, empty generation collection, its validity fields indexed on a server."""
        self.store.create_collection(self.name, dimension, sparse)
        if self.store.kind == "server":  # local mode has no payload indexes
            for field in (VALID_FROM, VALID_TO):
                self._client.create_payload_index(
                    self.name, field, models.PayloadSchemaType.INTEGER
                )
            for field in ("chunk_id", POINT_KEY):
                self._client.create_payload_index(
                    self.name, field, models.PayloadSchemaType.KEYWORD
                )

    def exists(self) -> bool:
        """Whether the collection is there."""
        return bool(self._client.collection_exists(self.name))

    def repair(self, last: int) -> None:
        """Undo what builds after version `last` wrote (a crashed or removed build's points)."""
        self._delete_where(VALID_FROM, models.Range(gt=last))
        self._client.set_payload(
            self.name,
            payload={VALID_TO: OPEN},
            points=models.FilterSelector(
                filter=models.Filter(
                    must=[models.FieldCondition(key=VALID_TO, range=models.Range(gt=last, lt=OPEN))]
                )
            ),
            wait=True,
        )

    def open_points(self) -> dict[str, str]:
        """Point key → point id of every point the newest version holds."""
        flt = models.Filter(
            must=[models.FieldCondition(key=VALID_TO, range=models.Range(gte=OPEN))]
        )
        found: dict[str, str] = {}
        offset: Any = None
        while True:
            records, offset = self._client.scroll(
                self.name,
                scroll_filter=flt,
                limit=_SCROLL,
                offset=offset,
                with_payload=[POINT_KEY],
                with_vectors=False,
            )
            found.update({str(r.payload[POINT_KEY]): str(r.id) for r in records})
            if offset is None:
                return found

    def close(self, point_ids: Iterable[str], sequence: int) -> int:
        """Mark points as no longer held from version `sequence` on; how many."""
        ids = list(point_ids)
        for i in range(0, len(ids), _SCROLL):
            self._client.set_payload(
                self.name, payload={VALID_TO: sequence}, points=ids[i : i + _SCROLL], wait=True
            )
        return len(ids)

    def expire(self, oldest: int) -> None:
        """Delete points no kept version holds: valid_to <= the oldest kept sequence number."""
        self._delete_where(VALID_TO, models.Range(lte=oldest))

    def _delete_where(self, key: str, bound: models.Range) -> None:
        """Delete the points whose integer `key` falls in `bound` (pending writes flushed first)."""
        self.store.flush(self.name)
        selector = models.Filter(must=[models.FieldCondition(key=key, range=bound)])
        self._client.delete(
            self.name, points_selector=models.FilterSelector(filter=selector), wait=True
        )
