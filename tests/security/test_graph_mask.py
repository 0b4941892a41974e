"""The graph walk a caller gets equals the walk on a graph its hidden documents were never in."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from rag_pipelines.config.access import AccessSettings
from rag_pipelines.index.access import AccessPolicy
from rag_pipelines.index.graph_build import chunk_node, doc_node, phrase_node
from rag_pipelines.index.graph_store import load_walk_graph, save_graph
from rag_pipelines.index.graph_walk import GraphWalker
from rag_pipelines.retrieval.access import VersionAccess

DOCS = {"pub1": 2, "pub2": 1, "secret": 2}  # document → chunks
MENTIONS = {  # phrase → chunks mentioning it
    "shared": ["pub1-0", "secret-0"],
    "secret only": ["secret-0", "secret-1"],
    "public": ["pub1-1", "pub2-0"],
}
LINKS = [("pub1", "pub2"), ("pub2", "secret")]
SEEDS = {
    phrase_node("shared"): 1.0,
    phrase_node("secret only"): 1.0,
    chunk_node("secret-0"): 1.0,
    chunk_node("pub1-0"): 0.5,
}
POLICY = AccessPolicy({"s": AccessSettings(documents={"secret": ["hr"]})})


def corpus_graph(hidden: bool) -> nx.Graph:
    """The test graph, shaped as build_graph makes it; without `secret` unless `hidden`."""
    graph = nx.Graph()
    docs = {d: n for d, n in DOCS.items() if hidden or d != "secret"}
    for doc, chunks in docs.items():
        graph.add_node(doc_node("s", doc), kind="document", source="s", document_id=doc)
        for i in range(chunks):
            node = chunk_node(f"{doc}-{i}")
            graph.add_node(node, kind="chunk", source="s", document_id=doc)
            graph.add_edge(doc_node("s", doc), node, kind="contains", weight=1.0)
            if i:
                graph.add_edge(chunk_node(f"{doc}-{i - 1}"), node, kind="adjacent", weight=0.5)
    for phrase, chunks in MENTIONS.items():
        for weight, chunk in enumerate(c for c in chunks if chunk_node(c) in graph):
            graph.add_node(phrase_node(phrase), kind="phrase", df=len(chunks))
            graph.add_edge(
                chunk_node(chunk), phrase_node(phrase), kind="mentions", weight=1 - weight / 4
            )
    graph.add_edge(phrase_node("shared"), phrase_node("public"), kind="cooccurs", weight=0.2)
    for a, b in LINKS:
        if a in docs and b in docs:
            graph.add_edge(doc_node("s", a), doc_node("s", b), kind="links", weight=1.0)
    return graph


@pytest.fixture
def access(tmp_path: Path) -> VersionAccess:
    """The access view of the full graph."""
    save_graph(corpus_graph(hidden=True), tmp_path / "full.json")
    nodes, transition, owners = load_walk_graph(tmp_path / "full.json")
    return VersionAccess(POLICY, GraphWalker(nodes, transition), owners)


def oracle(tmp_path: Path) -> GraphWalker:
    """The walker of the graph built without the hidden document."""
    save_graph(corpus_graph(hidden=False), tmp_path / "public.json")
    nodes, transition, _ = load_walk_graph(tmp_path / "public.json")
    return GraphWalker(nodes, transition)


def test_masked_walk_equals_the_walk_without_hidden_documents(
    access: VersionAccess, tmp_path: Path
) -> None:
    readers = frozenset({"public"})
    masked = access.walker_for(readers).walk(SEEDS, steps=4, restart=0.3)
    expected = oracle(tmp_path).walk(SEEDS, steps=4, restart=0.3)
    assert masked.keys() == expected.keys() == {"pub1-0", "pub1-1", "pub2-0"}
    assert masked == pytest.approx(expected, rel=1e-12)
    # the test can fail: the full walk scores the same public chunks differently
    full = access.walker.walk(SEEDS, steps=4, restart=0.3)
    assert {"secret-0", "secret-1"} <= full.keys()
    assert {c: full[c] for c in expected} != pytest.approx(expected, rel=1e-6)


def test_members_and_unrestricted_callers_walk_the_whole_graph(access: VersionAccess) -> None:
    assert access.walker_for(frozenset({"hr", "public"})) is access.walker
    assert access.walker_for(None) is access.walker
    assert access.walker_for(frozenset({"public"})) is access.walker_for(frozenset({"public"}))
