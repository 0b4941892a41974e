"""A model change builds a new version; the live one keeps answering until the new one is live."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from assets.definitions import CORPUS_WIDE
from assets.runs import (
    materialize_corpus,
    materialize_pipeline,
    materialize_sources,
    metadata_of,
)
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.cache import EmbeddingCache
from rag_pipelines.embedding.identity import configured_identity
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.index.vector_store import VectorStore
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
from rag_pipelines.retrieval.live import LiveIndex
from rag_pipelines.retrieval.models import SearchResponse
from tests.dataops.corpus import INITIAL, SOURCES, write_config, write_corpus
from tests.dataops.index_state import search_version

pytestmark = pytest.mark.slow


@dataclass
class Answers:
    """What the service answered at one moment: per product, the top dense hit's response."""

    served: str
    responses: list[SearchResponse]


@dataclass
class Switch:
    """A pipeline published with model A, then re-embedded, checked and published with B."""

    old: BuildManifest
    new: BuildManifest
    ingest: list[dg.ExecuteInProcessResult]
    build: dg.ExecuteInProcessResult
    live_during_ingest: str | None
    live_during_build: str | None
    before: Answers
    during_ingest: Answers
    during_build: Answers
    after: Answers
    ctx: PipelineContext
    store: VectorStore


def _ask(live: LiveIndex) -> Answers:
    live.refresh()  # what the service's poller does: switch only if LIVE.json moved
    with live.acquire() as index:
        responses = [index.search(p.query, 3, "dense", False) for p in INITIAL]
        return Answers(index.version, responses)


def _live(ctx: PipelineContext) -> str | None:
    pointer = ctx.registry.live()
    return pointer.version if pointer else None


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory, retuned_model: Path) -> Iterator[Switch]:
    """Publish with the bundled MiniLM; switch sources.yaml to the retuned copy; refresh."""
    tmp = tmp_path_factory.mktemp("model-change")
    roots = write_corpus(tmp)
    model_a = write_config(tmp, roots)
    model_b: SourcesFile = write_config(
        tmp, roots, embedding={"model": str(retuned_model)}, file_name="retuned.yaml"
    )
    ctx = PipelineContext(model_b)
    with dg.DagsterInstance.ephemeral() as instance:
        materialize_pipeline(model_a, instance)
        old = ctx.registry.live_manifest()
        # A service that already runs with the new sources.yaml, over the old version.
        live = LiveIndex(ctx)
        try:
            before = _ask(live)
            ingest = materialize_sources(model_b, instance)  # the model sensor's runs
            live_during_ingest, during_ingest = _live(ctx), _ask(live)
            unpublished = [a for a in CORPUS_WIDE if a != "published_index"]
            build = materialize_corpus(model_b, instance, unpublished)  # built and checked
            live_during_build, during_build = _live(ctx), _ask(live)
            materialize_corpus(model_b, instance, ["published_index"])
            after = _ask(live)
        finally:
            live.stop()
        new = ctx.registry.live_manifest()
    store = open_vector_store(model_b.index.qdrant, ctx.workspace)
    yield Switch(
        old,
        new,
        ingest,
        build,
        live_during_ingest,
        live_during_build,
        before,
        during_ingest,
        during_build,
        after,
        ctx,
        store,
    )
    store.close()


def test_the_new_version_carries_the_new_model(switch: Switch, retuned_model: Path) -> None:
    assert switch.new.version != switch.old.version
    assert switch.new.version > switch.old.version
    assert switch.old.model.name == "all-MiniLM-L6-v2"
    assert switch.new.model.identity == configured_identity(switch.ctx.config.embedding)
    assert switch.new.model.identity != switch.old.model.identity
    assert switch.new.model.key != switch.old.model.key
    assert switch.new.model_ref == str(retuned_model)
    assert switch.new.model.dimension == switch.old.model.dimension == 384
    verdicts = switch.ctx.registry.checks(switch.new.version)
    assert all(verdicts[name].passed for name in BLOCKING_CHECKS)


def test_every_chunk_is_reembedded_with_the_new_model(switch: Switch) -> None:
    for source, run in zip(SOURCES, switch.ingest, strict=True):
        documents = metadata_of(run, "documents")
        assert documents["unchanged"] == documents["documents"]  # only the model changed
        embedded = metadata_of(run, "embeddings")
        assert embedded["embedded"] == embedded["chunks"] > 0, source
        assert embedded["reused_from_cache"] == 0
        assert embedded["model_fingerprint"] == switch.new.model.key
    snapshot = metadata_of(switch.build, "corpus_snapshot")
    assert snapshot["reused_unchanged_version"] is False
    assert snapshot["model_fingerprint"] == switch.new.model.key


def test_the_new_version_holds_the_same_chunks_with_new_vectors(switch: Switch) -> None:
    old = snapshot_chunks(switch.ctx, switch.old.version)
    new = snapshot_chunks(switch.ctx, switch.new.version)
    assert sorted(c.id for c in new) == sorted(c.id for c in old)
    assert switch.new.chunks == switch.new.vectors == switch.new.bm25_points == len(new)
    hashes = [c.text_hash for c in new]
    cache = EmbeddingCache(switch.ctx.workspace.embedding_cache_path)
    try:
        before = cache.get(switch.old.model.key, hashes)
        after = cache.get(switch.new.model.key, hashes)
    finally:
        cache.close()
    assert set(before) == set(after) == set(hashes)
    for text_hash in hashes:
        assert not np.allclose(before[text_hash], after[text_hash], atol=1e-6)


def test_the_old_version_keeps_answering_until_the_new_one_is_published(switch: Switch) -> None:
    old = switch.old.version
    assert switch.live_during_ingest == switch.live_during_build == old
    assert switch.ctx.registry.manifest(switch.new.version)  # complete, checked, not yet live
    for answers in (switch.before, switch.during_ingest, switch.during_build):
        assert answers.served == old
        for product, response in zip(INITIAL, answers.responses, strict=True):
            assert response.index_version == old
            assert response.model_fingerprint == switch.old.model.key
            assert response.hits[0].provenance.document_id == product.path
            assert all(
                h.provenance.model_fingerprint == switch.old.model.key for h in response.hits
            )


def test_after_publishing_hits_carry_the_new_fingerprint(switch: Switch) -> None:
    assert switch.after.served == switch.new.version
    for product, response in zip(INITIAL, switch.after.responses, strict=True):
        assert response.index_version == switch.new.version
        assert response.model_fingerprint == switch.new.model.key
        assert response.hits[0].provenance.document_id == product.path
        assert all(h.provenance.model_fingerprint == switch.new.model.key for h in response.hits)


@pytest.mark.parametrize("which", ["old", "new"])
def test_each_version_embeds_queries_with_its_own_model(switch: Switch, which: str) -> None:
    """Whatever sources.yaml names now, a version is queried with the model that built it."""
    manifest = switch.old if which == "old" else switch.new
    chunk = snapshot_chunks(switch.ctx, manifest.version)[0]
    cache = EmbeddingCache(switch.ctx.workspace.embedding_cache_path)
    try:
        stored = cache.get(manifest.model.key, [chunk.text_hash])[chunk.text_hash]
    finally:
        cache.close()
    response = search_version(switch.ctx, switch.store, manifest.version, chunk.embed_text, "dense")
    top = response.hits[0]
    assert top.chunk_id == chunk.id
    # The chunk's own text, embedded as a query, meets its stored vector at cosine 1.
    assert top.score == pytest.approx(float(np.dot(stored, stored)), abs=1e-4)
    assert response.model_fingerprint == manifest.model.key
