"""Save and load the graph as versioned JSON (no pickle), and as a walkable sparse matrix."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
from scipy import sparse

FORMAT_VERSION = 1
_KINDS = ["contains", "mentions", "cooccurs", "adjacent", "links"]


def save_graph(graph: nx.Graph, path: Path) -> None:
    """Write nodes (with attributes) and edges as compact JSON arrays."""
    nodes = list(graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    src, dst, weight, kind = [], [], [], []
    for a, b, data in graph.edges(data=True):
        src.append(index[a])
        dst.append(index[b])
        weight.append(float(data.get("weight", 1.0)))
        kind.append(_KINDS.index(data["kind"]))
    payload = {
        "format_version": FORMAT_VERSION,
        "edge_kinds": _KINDS,
        "nodes": nodes,
        "node_attrs": [graph.nodes[n] for n in nodes],
        "edges": {"src": src, "dst": dst, "weight": weight, "kind": kind},
    }
    path.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")


def _read(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: unsupported graph format {data.get('format_version')}")
    return data


def load_networkx(path: Path) -> nx.Graph:
    """The stored graph as a networkx Graph (for analysis and checks)."""
    data = _read(path)
    nodes: list[str] = data["nodes"]  # type: ignore[assignment]
    attrs: list[dict[str, object]] = data["node_attrs"]  # type: ignore[assignment]
    edges: dict[str, list[float]] = data["edges"]  # type: ignore[assignment]
    kinds: list[str] = data["edge_kinds"]  # type: ignore[assignment]
    graph = nx.Graph()
    graph.add_nodes_from(zip(nodes, attrs, strict=True))
    for a, b, w, k in zip(edges["src"], edges["dst"], edges["weight"], edges["kind"], strict=True):
        graph.add_edge(nodes[int(a)], nodes[int(b)], weight=w, kind=kinds[int(k)])
    return graph


def load_transition(path: Path) -> tuple[list[str], sparse.csr_array]:
    """Node ids and the row-stochastic transition matrix of the (undirected) graph."""
    return _transition(_read(path))


Owner = tuple[str, str] | None  # a node's document (source, id); None for phrases
Layer = tuple[str, ...] | None  # the groups of a phrase node's layer; None: not layered


def load_walk_graph(path: Path) -> tuple[list[str], sparse.csr_array, list[Owner]]:
    """Node ids, transition matrix, and each node's document (source, id); None for phrases."""
    nodes, transition, owners, _ = load_walk_layers(path)
    return nodes, transition, owners


def load_walk_layers(
    path: Path,
) -> tuple[list[str], sparse.csr_array, list[Owner], list[Layer]]:
    """As load_walk_graph, plus each phrase node's layer groups (graphs built with access)."""
    data = _read(path)
    nodes, transition = _transition(data)
    attrs: list[dict[str, object]] = data["node_attrs"]  # type: ignore[assignment]
    owners: list[Owner] = [
        (str(a["source"]), str(a["document_id"])) if "document_id" in a else None for a in attrs
    ]
    layers: list[Layer] = []
    for a in attrs:
        groups = a.get("groups")
        layers.append(tuple(str(g) for g in groups) if isinstance(groups, list) else None)
    return nodes, transition, owners, layers


def _transition(data: dict[str, object]) -> tuple[list[str], sparse.csr_array]:
    nodes: list[str] = data["nodes"]  # type: ignore[assignment]
    edges: dict[str, list[float]] = data["edges"]  # type: ignore[assignment]
    src = np.asarray(edges["src"], dtype=np.int64)
    dst = np.asarray(edges["dst"], dtype=np.int64)
    weight = np.asarray(edges["weight"], dtype=np.float64)
    n = len(nodes)
    rows = np.concatenate([src, dst])
    cols = np.concatenate([dst, src])
    vals = np.concatenate([weight, weight])
    matrix = sparse.csr_array((vals, (rows, cols)), shape=(n, n))
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    degree[degree == 0] = 1.0
    transition = sparse.csr_array(sparse.diags_array(1.0 / degree) @ matrix)
    return nodes, transition
