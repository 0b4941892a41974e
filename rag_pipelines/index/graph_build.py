"""Build the knowledge graph of a corpus with networkx (documents, chunks, key phrases)."""

from __future__ import annotations

import posixpath
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations, pairwise
from urllib.parse import unquote

import networkx as nx

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.models import GraphSettings
from rag_pipelines.index.phrases import PhraseVocabulary, candidate_phrases

# Edge weights per relation: how strongly a walk moves along each kind of edge.
WEIGHTS = {"contains": 1.0, "adjacent": 0.5, "links": 1.0, "cooccurs": 0.2}
COOCCUR_TOP = 3  # co-occurrence edges only among a chunk's best phrases: keeps edges linear


def doc_node(source: str, document_id: str) -> str:
    """Node id of a document."""
    return f"d:{source}:{document_id}"


def chunk_node(chunk_id: str) -> str:
    """Node id of a chunk."""
    return f"c:{chunk_id}"


def phrase_node(phrase: str, layer: str = "") -> str:
    """Node id of a key phrase (in an access layer: `p:<layer>|<phrase>`)."""
    return f"p:{layer}|{phrase}" if layer else f"p:{phrase}"


def phrase_of(node: str) -> str:
    """The phrase of a phrase node id (phrases never hold `|`: they are words and spaces)."""
    return node[2:].rsplit("|", 1)[-1]


GroupsOf = Callable[[str, str], tuple[str, ...]]


def build_graph(
    chunks: list[Chunk],
    links: dict[tuple[str, str], list[str]],
    settings: GraphSettings,
    groups_of: GroupsOf | None = None,
) -> nx.Graph:
    """Nodes for documents, chunks and phrases; edges for containment, mentions,
    co-occurrence, chunk adjacency and document links.

    With `groups_of`, chunks are split by the groups that may read them and each such class
    gets its own phrase layer (vocabulary, frequencies, co-occurrence): a caller's walk then
    depends only on chunks it can read, so a hidden word cannot steer it.
    """
    graph = nx.Graph()
    layers: dict[tuple[str, ...], list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        layers[groups_of(chunk.source, chunk.document_id) if groups_of else ()].append(chunk)
    for i, groups in enumerate(sorted(layers)):
        name = str(i) if len(layers) > 1 else ""
        _add_phrase_layer(graph, layers[groups], settings, name, groups if groups_of else None)
    by_doc: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_doc[(chunk.source, chunk.document_id)].append(chunk)
    for (source, document_id), doc_chunks in by_doc.items():
        d_node = doc_node(source, document_id)
        graph.add_node(d_node, kind="document", source=source, document_id=document_id)
        ordered = sorted(doc_chunks, key=lambda c: c.ordinal)
        for chunk in ordered:
            graph.add_edge(
                d_node, chunk_node(chunk.id), kind="contains", weight=WEIGHTS["contains"]
            )
        for left, right in pairwise(ordered):
            graph.add_edge(
                chunk_node(left.id),
                chunk_node(right.id),
                kind="adjacent",
                weight=WEIGHTS["adjacent"],
            )
    known: dict[str, set[str]] = defaultdict(set)  # once, not per linking document: O(n)
    for source, document_id in by_doc:
        known[source].add(document_id)
    for (source, document_id), targets in links.items():
        if (source, document_id) not in by_doc:
            continue  # a document without chunks has no node; links into one are dropped too
        for target in resolve_links(document_id, targets, known[source]):
            if target != document_id:
                graph.add_edge(
                    doc_node(source, document_id),
                    doc_node(source, target),
                    kind="links",
                    weight=WEIGHTS["links"],
                )
    return graph


def _add_phrase_layer(
    graph: nx.Graph,
    chunks: list[Chunk],
    settings: GraphSettings,
    layer: str,
    groups: tuple[str, ...] | None,
) -> None:
    """Chunk nodes and the phrase layer counted over these chunks alone."""
    candidates = [candidate_phrases(c.embed_text, settings.max_phrase_words) for c in chunks]
    vocab = PhraseVocabulary.fit(
        candidates, settings.min_phrase_chunks, settings.max_phrase_fraction
    )
    cooccur: Counter[tuple[str, str]] = Counter()
    for chunk, phrases in zip(chunks, candidates, strict=True):
        c_node = chunk_node(chunk.id)
        graph.add_node(c_node, kind="chunk", source=chunk.source, document_id=chunk.document_id)
        top = vocab.top(phrases, settings.max_phrases_per_chunk)
        best = max((score for _, score in top), default=1.0)
        for phrase, score in top:
            p_node = phrase_node(phrase, layer)
            if p_node not in graph:
                graph.add_node(p_node, kind="phrase", df=vocab.df[phrase])
                if groups is not None:  # the readers of the layer: the walk masks by them
                    graph.nodes[p_node]["groups"] = list(groups)
            graph.add_edge(c_node, p_node, kind="mentions", weight=round(score / best, 4))
        for a, b in combinations(sorted(p for p, _ in top[:COOCCUR_TOP]), 2):
            cooccur[(a, b)] += 1
    for (a, b), count in cooccur.items():
        graph.add_edge(
            phrase_node(a, layer),
            phrase_node(b, layer),
            kind="cooccurs",
            weight=WEIGHTS["cooccurs"] * count,
        )


def resolve_links(document_id: str, hrefs: Iterable[str], known: set[str]) -> list[str]:
    """Document ids (of the same source) that relative links of a document point to."""
    base = posixpath.dirname(document_id)
    found: list[str] = []
    for href in hrefs:
        target = href.split("#", 1)[0].split("?", 1)[0].strip()
        if not target or "://" in target or target.startswith(("mailto:", "/")):
            continue
        target = unquote(target)  # hrefs percent-encode what document ids keep: "my%20notes.md"
        resolved = posixpath.normpath(posixpath.join(base, target))
        if resolved in known and resolved not in found:
            found.append(resolved)
    return found
