"""Hidden documents have no effect on a caller's graph walk or BM25 idf (seed_hits: 0 oracle)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.access import AccessSettings
from rag_pipelines.config.models import GraphSettings
from rag_pipelines.index.access import AccessPolicy
from rag_pipelines.index.bm25 import Bm25Model
from rag_pipelines.index.bm25_access import Bm25AccessStats
from rag_pipelines.index.graph_build import build_graph
from rag_pipelines.index.graph_store import load_walk_layers, save_graph
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.retrieval.access import VersionAccess
from tests.indexes_hybrid.test_graph import make_chunk

SETTINGS = GraphSettings(min_phrase_chunks=2, max_phrase_fraction=1.0)
POLICY = AccessPolicy({"s": AccessSettings(documents={"secret/**": ["hr"]})})
READER = frozenset({"public"})
PUBLIC = {
    "pub/kettle.md": ["The copper kettle boils water fast.", "A copper kettle needs descaling."],
    "pub/lamp.md": ["The teal lamp glows at night.", "Solar cells charge the teal lamp."],
    "pub/tea.md": ["Green tea wants water below boiling."],
}
# "xylophonic" is only in hidden text, next to words the public documents use.
HIDDEN = {
    "secret/plan.md": ["Xylophonic copper kettle plan.", "Xylophonic teal lamp budget."],
    "secret/memo.md": ["The xylophonic project buys copper kettle stock and teal lamp parts."],
}
QUERIES = ["xylophonic", "xylophonic copper kettle", "teal lamp", "copper kettle water"]


def _chunks(docs: dict[str, list[str]]) -> list[Chunk]:
    return [make_chunk("s", d, i, t) for d, texts in docs.items() for i, t in enumerate(texts)]


def _walker(tmp_path: Path, docs: dict[str, list[str]], name: str) -> VersionAccess:
    graph = build_graph(_chunks(docs), {}, SETTINGS, POLICY.groups_of)
    save_graph(graph, tmp_path / name)
    nodes, transition, owners, layers = load_walk_layers(tmp_path / name)
    return VersionAccess(POLICY, GraphWalker(nodes, transition), owners, layers)


def _graph_results(walker: GraphWalker, query: str) -> dict[str, float]:
    """The walk the engine makes with seed_hits 0: seeded by the query's phrases only."""
    seeds = {i: 1.0 for word in query.lower().split() for i in walker.phrases.get(word, ())}
    return walker.walk_indices(seeds)


@pytest.mark.parametrize("query", QUERIES)
def test_graph_walk_ignores_hidden_chunks(tmp_path: Path, query: str) -> None:
    """Regression: a word only in hidden chunks seeded the walk and surfaced public documents."""
    full = _walker(tmp_path, {**PUBLIC, **HIDDEN}, "full.json")
    public_only = _walker(tmp_path, PUBLIC, "public.json")
    got = _graph_results(full.walker_for(READER), query)
    expected = _graph_results(public_only.walker_for(READER), query)
    assert got == pytest.approx(expected, rel=1e-9)
    if query == "xylophonic":
        assert got == {}
        assert _graph_results(full.walker_for(None), query)  # members do reach it


def test_bm25_idf_for_a_reader_is_the_idf_of_readable_chunks() -> None:
    """Regression: corpus-wide idf let hidden chunks shift the scores of readable ones."""
    chunks = _chunks({**PUBLIC, **HIDDEN})
    corpus = [c.embed_text.lower().replace(".", "").split() for c in chunks]
    classes = [POLICY.groups_of(c.source, c.document_id) for c in chunks]
    model = Bm25Model.fit(corpus)
    stats = Bm25AccessStats.fit(model, corpus, classes)
    visible = frozenset(c for c in stats.documents if "public" in c)
    oracle = BM25Okapi([t for t, c in zip(corpus, classes, strict=True) if c in visible])
    for term, expected in oracle.idf.items():
        assert stats.idf(model, model.vocab[term], visible) == pytest.approx(expected)
    # The weight makes the stored (corpus) idf the readable one; a stored 0 cannot be scaled.
    shifted = [t for t in oracle.idf if model.idf[model.vocab[t]] not in (0, oracle.idf[t])]
    assert shifted  # the test can fail: hidden chunks do shift these terms' corpus idf
    ids = [model.vocab[t] for t in shifted]
    weights = stats.query_weights(model, ids, [1.0] * len(ids), visible)
    for term, term_id, weight in zip(shifted, ids, weights, strict=True):
        assert weight * model.idf[term_id] == pytest.approx(oracle.idf[term])
