"""Generation collections at the store level: validity filtering, crash repair, expiry, BM25 ids."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from qdrant_client import QdrantClient

from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_generation import GenerationVocab, remap, tf_vector, within_drift
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.generation_store import (
    GenerationWriter,
    point_id,
    point_key,
    stamped,
)
from rag_pipelines.index.generation_view import GenerationView
from rag_pipelines.index.vector_store import VectorPoint

NAME = "rag_gen_v1_gen"


def memory_store() -> ClientVectorStore:
    """qdrant-client local mode in memory."""
    store = ClientVectorStore(QdrantClient(location=":memory:"))
    store.kind = "local"
    return store


def write(writer: GenerationWriter, chunk: str, text: str, sequence: int) -> str:
    """Upsert one point of `chunk` valid from `sequence`; its key."""
    payload = {"chunk_id": chunk, "text": text, "index_version": f"v{sequence}"}
    key = point_key(payload)
    vector = np.ones(4, dtype=np.float32) / 2
    writer.store.upsert(
        writer.name, [VectorPoint(point_id(key, sequence), vector, stamped(payload, key, sequence))]
    )
    return key


def texts(store: ClientVectorStore, sequence: int) -> dict[str, str]:
    """chunk id → text as the version numbered `sequence` holds it."""
    view = GenerationView(store, f"v{sequence}", sequence, None)
    hits = view.search(NAME, np.ones(4, dtype=np.float32), 10)
    return {h.chunk_id: str(h.payload["text"]) for h in hits}


A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def test_versions_repair_and_expiry() -> None:
    """Each sequence number sees its own points; a crashed build's writes are undone; expired
    points go."""
    store = memory_store()
    writer = GenerationWriter(store, NAME)
    writer.create(4)
    for chunk in (A, B, C):
        write(writer, chunk, "one", 1)
    opened = writer.open_points()
    write(writer, B, "two", 2)  # v2: edit B, delete C
    writer.close([opened[point_key({"chunk_id": B, "text": "one"})]], 2)
    writer.close([opened[point_key({"chunk_id": C, "text": "one"})]], 2)
    assert texts(store, 1) == {A: "one", B: "one", C: "one"}
    assert texts(store, 2) == {A: "one", B: "two"}
    before = writer.open_points()
    write(writer, D, "three", 3)  # a build numbered 3 that crashed halfway
    writer.close([before[point_key({"chunk_id": A, "text": "one"})]], 3)
    writer.repair(2)
    assert writer.open_points() == before
    assert texts(store, 3) == texts(store, 2)
    assert GenerationView(store, "v1", 1, None).count(NAME) == 3
    writer.expire(2)  # the oldest kept version is 2: points only v1 held go
    assert store.count(NAME) == 2
    assert texts(store, 2) == {A: "one", B: "two"}


def test_a_content_seen_again_gets_a_new_point() -> None:
    """Regression: an edit reverted later must not overwrite the old interval's point."""
    key = point_key({"chunk_id": A, "text": "one"})
    assert point_id(key, 1) != point_id(key, 3)
    assert key == point_key({"chunk_id": A, "text": "one", "index_version": "v9"})


def test_retrieve_is_filtered_to_the_version_and_stamped_with_it() -> None:
    """A payload read through a version carries that version's id and no validity fields."""
    store = memory_store()
    writer = GenerationWriter(store, NAME)
    writer.create(4)
    write(writer, A, "one", 1)
    payloads = GenerationView(store, "v7", 7, None).retrieve(NAME, [A, B])
    assert payloads == {A: {"chunk_id": A, "text": "one", "index_version": "v7"}}
    assert GenerationView(store, "v0", 0, None).retrieve(NAME, [A]) == {}


def test_tf_part_times_version_idf_is_the_copy_weight() -> None:
    """With the generation's avgdl equal to the version's, idf x tf-part is BM25's weight."""
    corpus = [["cell", "growth", "cell"], ["tumour", "growth"], ["mice"]]
    model = Bm25Model.fit(corpus)
    vocab = GenerationVocab(model.avgdl, ["zebra"])  # an older version's term keeps id 0
    vocab.extend(list(model.vocab))
    generation = remap(model, vocab)
    assert generation.idf[0] == 0.0 and vocab.ids["zebra"] == 0
    for terms in corpus:
        want = dict(zip(*model.document_vector(terms), strict=True))
        ids, values = tf_vector(terms, vocab, model.k1, model.b)
        got = {i: v * generation.idf[i] for i, v in zip(ids, values, strict=True)}
        assert {model.vocab[vocab.terms[i]]: v for i, v in got.items()} == pytest.approx(want)


@pytest.mark.parametrize(
    ("avgdl", "frozen", "b", "drift", "ok"),
    [
        (100.0, 100.0, 0.75, 0.0, True),
        (104.0, 100.0, 0.75, 0.05, True),
        (106.0, 100.0, 0.75, 0.05, False),
        (94.0, 100.0, 0.75, 0.05, False),
        (300.0, 100.0, 0.0, 0.0, True),  # b = 0: length never enters a score
    ],
)
def test_avgdl_drift(avgdl: float, frozen: float, b: float, drift: float, ok: bool) -> None:
    assert within_drift(avgdl, frozen, b, drift) is ok


def test_generation_versioning_needs_a_client_backend() -> None:
    with pytest.raises(ValidationError, match="versioning: generation needs a qdrant-client"):
        QdrantSettings.model_validate({"versioning": "generation"})
    assert QdrantSettings.model_validate({"versioning": "generation", "backend": "local"})
    assert QdrantSettings.model_validate({}).versioning == "copy"
