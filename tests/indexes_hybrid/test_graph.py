"""The knowledge graph: building, links, JSON storage, the transition matrix, and the walk."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.models import GraphSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.index.graph_build import build_graph, chunk_node, doc_node, resolve_links
from rag_pipelines.index.graph_store import load_networkx, load_transition, save_graph
from rag_pipelines.index.graph_walk import GraphWalker

SETTINGS = GraphSettings(min_phrase_chunks=2, max_phrase_fraction=1.0)
TEXTS = {
    ("docs", "guide/intro.md"): [
        "Vector databases store embeddings. Knowledge graphs connect entities.",
        "Knowledge graphs and vector databases complement retrieval pipelines.",
    ],
    ("docs", "guide/setup.md"): ["Install vector databases, then build knowledge graphs."],
    ("docs", "api/ref.md"): ["Reference for retrieval pipelines and vector databases."],
    ("docs", "my notes.md"): ["Personal notes about knowledge graphs."],
    ("docs", "other/bread.md"): ["Sourdough loaves need flour, water and salt."],
    ("blog", "post.md"): ["Retrieval pipelines, explained."],
}
LINKS = {
    ("docs", "guide/intro.md"): [
        "setup.md",
        "../api/ref.md#params",
        "../my%20notes.md",
        "intro.md",  # itself
        "https://example.com/guide/setup.md",
        "/guide/setup.md",
        "mailto:someone@example.com",
        "#top",
    ],
    ("docs", "ghost.md"): ["guide/setup.md"],  # a document without chunks
    ("blog", "post.md"): ["guide/setup.md"],  # exists only in another source
}


def make_chunk(source: str, document_id: str, ordinal: int, text: str) -> Chunk:
    """A chunk with content-derived ids, as the chunker makes them."""
    return Chunk(
        id=sha256_text(source, document_id, str(ordinal), text),
        source=source,
        document_id=document_id,
        document_uri=f"file:///{document_id}",
        document_hash=sha256_text(document_id),
        title=document_id,
        ordinal=ordinal,
        text=text,
        embed_text=text,
        text_hash=sha256_text(text),
        token_count=len(text.split()),
        chunker="test",
    )


CHUNKS = [
    make_chunk(source, doc, i, text)
    for (source, doc), texts in TEXTS.items()
    for i, text in enumerate(texts)
]
INTRO_0, INTRO_1, SETUP, REF, NOTES, BREAD, POST = (c.id for c in CHUNKS)


@pytest.fixture(scope="module")
def graph() -> nx.Graph:
    """The hand-made corpus's graph."""
    return build_graph(CHUNKS, LINKS, SETTINGS)


@pytest.fixture(scope="module")
def stored(graph: nx.Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph saved as JSON."""
    path = tmp_path_factory.mktemp("graph") / "graph.json"
    save_graph(graph, path)
    return path


def edges_of(graph: nx.Graph, kind: str) -> set[frozenset[str]]:
    """The edges of one kind, as unordered node pairs."""
    return {frozenset((a, b)) for a, b, k in graph.edges(data="kind") if k == kind}


def test_every_node_and_edge_kind_is_present(graph: nx.Graph) -> None:
    """Documents, chunks and phrases; contains, mentions, cooccurs, adjacent and links edges."""
    kinds = {kind for _, kind in graph.nodes(data="kind")}
    assert kinds == {"document", "chunk", "phrase"}
    assert {k for _, _, k in graph.edges(data="kind")} == {
        "contains",
        "mentions",
        "cooccurs",
        "adjacent",
        "links",
    }
    assert sum(k == "chunk" for _, k in graph.nodes(data="kind")) == len(CHUNKS)
    assert sum(k == "document" for _, k in graph.nodes(data="kind")) == len(TEXTS)
    assert graph.has_node("p:knowledge graphs") and graph.has_node("p:vector databases")


def test_every_node_has_its_attributes(graph: nx.Graph) -> None:
    """Regression: a chunkless document's links added a node without `kind` (KeyError later)."""
    assert all("kind" in data for _, data in graph.nodes(data=True))
    assert not graph.has_node(doc_node("docs", "ghost.md"))


def test_structural_edges(graph: nx.Graph) -> None:
    """Documents contain their chunks, consecutive chunks are adjacent, links stay in-source."""
    assert edges_of(graph, "contains") == {
        frozenset((doc_node(c.source, c.document_id), chunk_node(c.id))) for c in CHUNKS
    }
    assert edges_of(graph, "adjacent") == {frozenset((chunk_node(INTRO_0), chunk_node(INTRO_1)))}
    intro = doc_node("docs", "guide/intro.md")
    assert edges_of(graph, "links") == {
        frozenset((intro, doc_node("docs", target)))
        for target in ("guide/setup.md", "api/ref.md", "my notes.md")
    }
    assert not any(graph.has_edge(chunk_node(BREAD), n) for n in graph if n.startswith("p:"))


def test_mentions_are_normalised_per_chunk(graph: nx.Graph) -> None:
    """Each chunk's best phrase weighs 1 and the rest less; co-occurrence joins phrases only."""
    for chunk in CHUNKS:
        weights = [
            graph.edges[chunk_node(chunk.id), n]["weight"]
            for n in graph[chunk_node(chunk.id)]
            if graph.edges[chunk_node(chunk.id), n]["kind"] == "mentions"
        ]
        assert not weights or (max(weights) == 1.0 and min(weights) > 0)
    assert all(a.startswith("p:") and b.startswith("p:") for a, b in edges_of(graph, "cooccurs"))


@pytest.mark.parametrize(
    ("document_id", "hrefs", "expected"),
    [
        ("guide/a.md", ["b.md"], ["guide/b.md"]),
        ("guide/a.md", ["./b.md"], ["guide/b.md"]),
        ("guide/a.md", ["sub/../b.md"], ["guide/b.md"]),
        ("guide/a.md", ["../api/ref.md"], ["api/ref.md"]),
        ("guide/a.md", ["b.md#install", "b.md?v=2"], ["guide/b.md"]),
        ("guide/a.md", ["b.md", "./b.md", "b.md#x"], ["guide/b.md"]),  # once each
        ("guide/a.md", ["../api/ref.md", "b.md"], ["api/ref.md", "guide/b.md"]),  # href order
        ("guide/a.md", ["https://example.com/guide/b.md"], []),
        ("guide/a.md", ["//cdn.example.com/guide/b.md"], []),
        ("guide/a.md", ["/guide/b.md"], []),  # site-absolute paths are ignored
        ("guide/a.md", ["mailto:x@example.com", "#top", "?q=1", ""], []),
        ("guide/a.md", ["missing.md"], []),
        ("a.md", ["../api/ref.md"], []),  # escapes the source root
        ("a.md", ["api/ref.md"], ["api/ref.md"]),
    ],
)
def test_resolve_links(document_id: str, hrefs: list[str], expected: list[str]) -> None:
    """Relative links resolve against the document's folder; anything else is dropped."""
    known = {"guide/b.md", "api/ref.md", "guide/my notes.md"}
    assert resolve_links(document_id, hrefs, known) == expected


def test_percent_encoded_link_resolves() -> None:
    """Regression: hrefs percent-encode spaces ("my%20notes.md"), document ids do not."""
    assert resolve_links("guide/a.md", ["my%20notes.md"], {"guide/my notes.md"}) == [
        "guide/my notes.md"
    ]


def test_json_round_trip_is_equal(graph: nx.Graph, stored: Path) -> None:
    """save_graph then load_networkx gives the same nodes, edges and attributes."""
    loaded = load_networkx(stored)
    assert dict(loaded.nodes(data=True)) == dict(graph.nodes(data=True))
    assert {frozenset((a, b)): d for a, b, d in loaded.edges(data=True)} == {
        frozenset((a, b)): d for a, b, d in graph.edges(data=True)
    }
    assert nx.utils.graphs_equal(loaded, graph)


def test_stored_file_is_versioned_json(stored: Path) -> None:
    """The file is plain JSON with a format version and the edge kinds; no pickle."""
    raw = stored.read_bytes()
    assert not raw.startswith(b"\x80")  # every pickle protocol >= 2 starts so
    data = json.loads(raw)
    assert data["format_version"] == 1
    assert data["edge_kinds"] == ["contains", "mentions", "cooccurs", "adjacent", "links"]
    assert set(data) == {"format_version", "edge_kinds", "nodes", "node_attrs", "edges"}


def test_unknown_format_version_is_refused(stored: Path, tmp_path: Path) -> None:
    """A file from another format version raises instead of loading wrongly."""
    data = json.loads(stored.read_text(encoding="utf-8"))
    data["format_version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for load in (load_networkx, load_transition):
        with pytest.raises(ValueError, match="unsupported graph format 99"):
            load(path)


def test_transition_is_row_stochastic(graph: nx.Graph, stored: Path) -> None:
    """Every row sums to 1 and equals networkx's weighted adjacency, row-normalised."""
    nodes, transition = load_transition(stored)
    assert nodes == list(graph.nodes)
    np.testing.assert_allclose(transition.sum(axis=1), 1.0)
    adjacency = nx.to_numpy_array(graph, nodelist=nodes, weight="weight")
    expected = adjacency / adjacency.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(transition.toarray(), expected, atol=1e-12)


def path_walker(tmp_path: Path, length: int = 4, beam: int = 4000) -> GraphWalker:
    """A walker on the chunk path c:n0 - c:n1 - ... (unit weights)."""
    graph = nx.Graph()
    for i in range(length - 1):
        graph.add_edge(f"c:n{i}", f"c:n{i + 1}", kind="adjacent", weight=1.0)
    save_graph(graph, tmp_path / "path.json")
    return GraphWalker(*load_transition(tmp_path / "path.json"), beam=beam)


@pytest.mark.parametrize(
    ("steps", "restart", "expected"),
    [
        (1, 0.3, {"n0": 0.3, "n1": 0.7}),
        (1, 0.5, {"n0": 0.5, "n1": 0.5}),
        (2, 0.3, {"n0": 0.3 + 0.545, "n1": 0.7 + 0.21, "n2": 0.245}),
        (2, 0.5, {"n0": 0.5 + 0.625, "n1": 0.5 + 0.25, "n2": 0.125}),
    ],
)
def test_walk_on_a_path_by_hand(
    tmp_path: Path, steps: int, restart: float, expected: dict[str, float]
) -> None:
    """Scores are visit probabilities summed over steps; each step restarts with `restart`."""
    scores = path_walker(tmp_path).walk({"c:n0": 1.0}, steps, restart)
    assert scores.keys() == expected.keys()
    assert scores == pytest.approx(expected)


@pytest.mark.parametrize("steps", [1, 2, 3, 5])
@pytest.mark.parametrize("restart", [0.15, 0.3, 0.8])
def test_walk_equals_dense_power_iteration(
    stored: Path, graph: nx.Graph, steps: int, restart: float
) -> None:
    """Without pruning the walk is Σ_t p_t, p_t = (1−r)·Tᵀp_{t−1} + r·s, on the chunk nodes."""
    nodes, transition = load_transition(stored)
    seeds = {chunk_node(INTRO_0): 2.0, "p:retrieval pipelines": 1.0}
    start = np.zeros(len(nodes))
    for node, weight in seeds.items():
        start[nodes.index(node)] = weight / 3.0
    dense = transition.toarray()
    p, total = start, np.zeros(len(nodes))
    for _ in range(steps):
        p = (1 - restart) * dense.T @ p + restart * start
        total += p
    expected = {n[2:]: total[i] for i, n in enumerate(nodes) if n.startswith("c:") and p[i] > 0}
    scores = GraphWalker(nodes, transition).walk(seeds, steps, restart)
    assert scores.keys() == expected.keys()
    assert scores == pytest.approx(expected)


def test_seeds_rank_their_neighbours_above_unrelated_chunks(stored: Path) -> None:
    """From one chunk: its document's other chunk and linked documents' chunks come first."""
    walker = GraphWalker(*load_transition(stored))
    scores = walker.walk({chunk_node(INTRO_0): 1.0}, steps=3, restart=0.3)
    assert max(scores, key=scores.__getitem__) == INTRO_0
    assert BREAD not in scores  # nothing connects it
    assert POST not in scores or scores[POST] < scores[SETUP]
    assert min(scores[INTRO_1], scores[SETUP]) > max(scores.get(c, 0.0) for c in (POST, BREAD))
    # bread ↔ its document only: 0.3 + (0.3 + 0.7·0.7) + (0.3 + 0.7·0.21) = 1.537
    assert walker.walk({chunk_node(BREAD): 1.0}, steps=3) == pytest.approx({BREAD: 1.537})


@pytest.mark.parametrize(
    "seeds",
    [{}, {"c:nope": 1.0}, {"p:never seen": 2.0}, {chunk_node(INTRO_0): 0.0}],
    ids=["none", "unknown-chunk", "unknown-phrase", "zero-weight"],
)
def test_unknown_or_empty_seeds_give_nothing(stored: Path, seeds: dict[str, float]) -> None:
    """Seeds that are not nodes (or weigh nothing) give an empty result, not an error."""
    assert GraphWalker(*load_transition(stored)).walk(seeds) == {}


def test_beam_bounds_the_result(tmp_path: Path) -> None:
    """On a 200-leaf star, the beam caps how many chunks a walk returns."""
    graph = nx.Graph()
    for i in range(200):
        graph.add_edge("p:hub", f"c:leaf{i}", kind="mentions", weight=1.0)
    save_graph(graph, tmp_path / "star.json")
    nodes, transition = load_transition(tmp_path / "star.json")
    wide = GraphWalker(nodes, transition).walk({"c:leaf0": 1.0}, steps=3)
    narrow = GraphWalker(nodes, transition, beam=10).walk({"c:leaf0": 1.0}, steps=3)
    assert len(wide) == 200
    assert 0 < len(narrow) <= 10
    assert max(narrow, key=narrow.__getitem__) == "leaf0"
