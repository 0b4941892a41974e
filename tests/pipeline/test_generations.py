"""versioning: generation answers exactly as copy-per-version, writing only what changed.

Both pipelines run every real stage (BEIR ingest, chunking and embedding with the real MiniLM:
a fake embedder's exact score ties would be ordered by insertion, the three indexes, the two
index checks, publish with GC) into qdrant-client's local mode in memory. No Qdrant server
binary exists here, so the server-only part (payload indexes on valid_from/valid_to) is not
exercised.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_tokenizer import Bm25Tokenizer
from rag_pipelines.pipeline.build.indexes import load_part
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
from rag_pipelines.pipeline.pin import unpin
from rag_pipelines.pipeline.publish import rollback
from rag_pipelines.retrieval.open import open_version
from tests.pipeline.generation_flow import (
    Corpus,
    CountingStore,
    build_and_publish,
    load_scifact,
    pipeline_context,
)

MODES = ("dense", "bm25", "graph", "hybrid")
READERS: tuple[frozenset[str] | None, ...] = (None, frozenset({"public"}))
Answers = dict[tuple[str, str, frozenset[str] | None], list[tuple[Any, ...]]]


@pytest.fixture(autouse=True)
def _loaded_query_model(monkeypatch: pytest.MonkeyPatch, minilm: Any) -> None:
    """Queries are embedded with the session's MiniLM (the versions' model), not a reload."""
    monkeypatch.setattr("rag_pipelines.retrieval.open.model_for", lambda *a, **k: minilm)


def queries(scifact: Path, corpus: Corpus) -> list[str]:
    """Four SciFact claims and the titles of a public and a restricted document."""
    with (scifact / "queries.jsonl").open(encoding="utf-8") as handle:
        claims = [json.loads(line)["text"] for line, _ in zip(handle, range(4), strict=False)]
    return claims + [next(iter(corpus.docs[s].values()))["title"] for s in ("pub", "team")]


def answers(ctx: PipelineContext, store: CountingStore, version: str, texts: list[str]) -> Answers:
    """Top 10 of every mode, for an open caller and a public-only one."""
    index = open_version(ctx, version, store)
    out: Answers = {}
    for text in texts:
        for mode in MODES:
            for readers in READERS:
                response = index.search(text, top_k=10, mode=mode, readers=readers)
                assert response.index_version == version
                out[(text, mode, readers)] = [
                    (
                        h.chunk_id,
                        h.score,
                        h.ranks,
                        h.provenance.index_version,
                        h.provenance.model_dump(exclude={"index_version", "lineage_url"}),
                    )
                    for h in response.hits
                ]
    return out


def assert_same(copy: Answers, generation: Answers, versions: tuple[str, str]) -> None:
    """Same chunks, ranks and provenance in the same order; scores equal to float32 rounding."""
    assert copy.keys() == generation.keys()
    for key, want in copy.items():
        got = generation[key]
        assert [h[0] for h in got] == [h[0] for h in want], key
        assert [h[2] for h in got] == [h[2] for h in want], key
        assert [h[4] for h in got] == [h[4] for h in want], key
        assert {h[3] for h in want} <= {versions[0]} and {h[3] for h in got} <= {versions[1]}
        np.testing.assert_allclose([h[1] for h in got], [h[1] for h in want], rtol=2e-6)


def keys(ctx: PipelineContext, version: str) -> set[tuple[str, str, str]]:
    """What each point of a version holds (content and its document's)."""
    return {(c.id, c.text_hash, c.document_hash) for c in snapshot_chunks(ctx, version)}


def raw_count(store: CountingStore, name: str) -> int:
    """Every point of a collection, whatever version holds it."""
    return int(store.client.count(name, exact=True).count)


def test_generation_mode_answers_as_copy_mode_and_writes_only_changes(
    tmp_path: Path, scifact_dir: Path, minilm: Any, tokenizer: Any
) -> None:
    """v1 → edit+delete+add → v2 → rollback to v1 → edit back+add → v3 (GC drops v1): every
    version answers identically in both modes; v2 upserts only changed chunks; GC expires."""
    docs = load_scifact(scifact_dir, 34)
    corpus = Corpus(tmp_path / "corpus", {"pub": dict(docs[:20]), "team": dict(docs[20:30])})
    corpus.write()
    texts = queries(scifact_dir, corpus)
    copy_ctx = pipeline_context(tmp_path / "copy", corpus)
    gen_ctx = pipeline_context(
        tmp_path / "gen", corpus, versioning="generation", generation_avgdl_drift=0
    )
    copy_store, gen_store = CountingStore(), CountingStore()

    def build() -> tuple[str, str]:
        return (
            build_and_publish(copy_ctx, copy_store, minilm, tokenizer),
            build_and_publish(gen_ctx, gen_store, minilm, tokenizer),
        )

    def same(pair: tuple[str, str]) -> None:
        assert_same(
            answers(copy_ctx, copy_store, pair[0], texts),
            answers(gen_ctx, gen_store, pair[1], texts),
            pair,
        )

    v1 = build()
    same(v1)
    pub = corpus.docs["pub"]
    edited, deleted = list(pub)[:2]
    original = dict(pub[edited])
    pub[edited] = {**original, "text": original["text"] + " Tumour growth slowed in mice."}
    del pub[deleted]
    corpus.docs["team"][docs[30][0]] = docs[30][1]
    corpus.write()
    before = dict(gen_store.sent)
    v2 = build()
    same(v2)

    dense = gen_ctx.registry.manifest(v2[1]).collection
    assert dense == gen_ctx.registry.manifest(v1[1]).collection
    k1, k2 = keys(gen_ctx, v1[1]), keys(gen_ctx, v2[1])
    part = load_part(gen_ctx, v2[1], "vector")
    assert part is not None
    assert gen_store.sent[dense] - before[dense] == part.details["upserted"] == len(k2 - k1)
    assert part.details["closed"] == len(k1 - k2) and 0 < len(k2 - k1) < len(k2) // 4
    assert raw_count(gen_store, dense) == len(k1 | k2)
    gone = [c.id for c in snapshot_chunks(gen_ctx, v1[1]) if c.document_id == deleted]
    for version, held in ((v1[1], len(gone)), (v2[1], 0)):  # the delete reached both indexes
        manifest, store = (
            gen_ctx.registry.manifest(version),
            open_version(gen_ctx, version, gen_store).store,
        )
        assert len(store.retrieve(manifest.collection, gone)) == held
        assert len(store.retrieve(manifest.bm25_collection, gone)) == held

    assert rollback(copy_ctx, copy_store, v1[0]).version == v1[0]
    assert rollback(gen_ctx, gen_store, v1[1]).version == v1[1]
    same(v1)
    unpin(copy_ctx)  # a rollback pins v1; the next build is to be published
    unpin(gen_ctx)

    pub[edited] = original  # edited back: v1's content again, v1's point must survive
    pub[docs[31][0]] = docs[31][1]
    corpus.write()
    v3 = build()
    assert v1[1] not in gen_ctx.registry.versions()  # retention 2: v1 collected
    k3 = keys(gen_ctx, v3[1])
    assert raw_count(gen_store, dense) == len(k2 | k3)  # v1-only points expired
    same(v2)
    same(v3)
    kept = {gen_ctx.registry.manifest(v).bm25_collection for v in (v2[1], v3[1])}
    assert {c for c in gen_store.collections() if c.endswith("_gen_bm25")} == kept


def test_bm25_generation_is_updated_in_place_with_the_version_idf_and_frozen_avgdl(
    tmp_path: Path, scifact_dir: Path, minilm: Any, tokenizer: Any
) -> None:
    """Within the avgdl drift, v2 upserts only changed BM25 points and scores as BM25 with
    v2's own idf (rank_bm25's) and the length normalisation frozen at v1."""
    docs = load_scifact(scifact_dir, 24)
    corpus = Corpus(tmp_path / "corpus", {"pub": dict(docs[:16]), "team": dict(docs[16:22])})
    corpus.write()
    ctx = pipeline_context(tmp_path / "gen", corpus, versioning="generation")
    store = CountingStore()
    v1 = build_and_publish(ctx, store, minilm, tokenizer)
    first = next(iter(corpus.docs["pub"]))
    corpus.docs["pub"][first] = {
        **corpus.docs["pub"][first],
        "text": corpus.docs["pub"][first]["text"] + " Mice.",
    }
    corpus.write()
    bm25 = ctx.registry.manifest(v1).bm25_collection
    before = store.sent[bm25]
    v2 = build_and_publish(ctx, store, minilm, tokenizer)
    manifest = ctx.registry.manifest(v2)
    assert manifest.bm25_collection == bm25 and manifest.generation is not None
    changed = len(keys(ctx, v2) - keys(ctx, v1))
    assert store.sent[bm25] - before == changed and 0 < changed < manifest.chunks // 4

    chunks = snapshot_chunks(ctx, v2)
    tokenize = Bm25Tokenizer(ctx.config.index.bm25)
    oracle = Bm25Model.fit([tokenize(c.embed_text) for c in chunks])
    assert oracle.avgdl != manifest.generation.bm25_avgdl  # the drift this test is about
    oracle.avgdl = manifest.generation.bm25_avgdl
    index = open_version(ctx, v2, store)
    for text in queries(scifact_dir, corpus):
        hits = index.search(text, top_k=10, mode="bm25").hits
        want = brute_force(oracle, chunks, tokenize, text)  # ties may come in either order
        got = [h.score for h in hits]
        np.testing.assert_allclose(got, [want[h.chunk_id] for h in hits], rtol=2e-6)
        np.testing.assert_allclose(got, sorted(want.values(), reverse=True)[: len(hits)], rtol=2e-6)


def brute_force(
    model: Bm25Model, chunks: list[Chunk], tokenize: Bm25Tokenizer, text: str
) -> dict[str, float]:
    """Chunk id → BM25 score under `model`, for every chunk scoring above zero."""
    indices, counts = model.query_vector(tokenize(text))
    weight = dict(zip(indices, counts, strict=True))
    scored = {}
    for chunk in chunks:
        ids, values = model.document_vector(tokenize(chunk.embed_text))
        score = sum(weight.get(i, 0.0) * v for i, v in zip(ids, values, strict=True))
        if score > 0:
            scored[chunk.id] = score
    return scored


def test_a_new_model_starts_a_new_generation_and_gc_drops_the_old_one(
    tmp_path: Path, scifact_dir: Path, tokenizer: Any
) -> None:
    """A model change writes fresh collections in full (as copy-per-version); once no kept
    version uses the old generation, GC drops its collections."""
    from tests.conftest import FakeEmbedder

    corpus = Corpus(tmp_path / "corpus", {"pub": dict(load_scifact(scifact_dir, 8)), "team": {}})
    corpus.docs["team"] = {"t1": {"title": "Team note", "text": "Mice and tumour growth."}}
    corpus.write()
    ctx = pipeline_context(tmp_path / "gen", corpus, versioning="generation")
    store = CountingStore()
    v1 = build_and_publish(ctx, store, FakeEmbedder(name="fake-a"), tokenizer)
    old = ctx.registry.manifest(v1)
    v2 = build_and_publish(ctx, store, FakeEmbedder(name="fake-b"), tokenizer)
    new = ctx.registry.manifest(v2)
    assert new.collection != old.collection and new.bm25_collection != old.bm25_collection
    assert store.sent[new.collection] == store.sent[new.bm25_collection] == new.chunks
    assert {old.collection, old.bm25_collection} <= set(store.collections())
    corpus.docs["team"]["t1"]["text"] += " Cells too."
    corpus.write()
    v3 = build_and_publish(ctx, store, FakeEmbedder(name="fake-b"), tokenizer)
    assert ctx.registry.manifest(v3).collection == new.collection
    assert ctx.registry.versions() == [v2, v3]
    assert not {old.collection, old.bm25_collection} & set(store.collections())
