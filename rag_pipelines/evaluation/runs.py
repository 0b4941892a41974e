"""Run a golden set against an index version: document-level rankings per mode."""

from __future__ import annotations

from collections.abc import Callable

from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.retrieval.models import Mode, SearchResponse

Progress = Callable[[int, int], None]


def document_run(response: SearchResponse, depth: int) -> dict[str, float]:
    """Chunk hits → documents, ranked by their best chunk (scores are rank-based, decreasing)."""
    seen: dict[str, float] = {}
    for hit in response.hits:
        doc = hit.provenance.document_id
        if doc not in seen:
            seen[doc] = float(depth - len(seen))
    return seen


def run_golden(
    index: VersionIndex,
    golden: GoldenSet,
    mode: Mode,
    rerank: bool = False,
    depth: int = 100,
    sources: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> dict[str, dict[str, float]]:
    """query id → {document id: score} for every query of the set."""
    flt = PayloadFilter(sources=sources) if sources else None
    run: dict[str, dict[str, float]] = {}
    for i, (query_id, text) in enumerate(golden.queries.items(), start=1):
        # Several chunks can come from one document: ask for more chunks than documents needed.
        response = index.search(text, depth * 3, mode, rerank, flt)
        run[query_id] = dict(list(document_run(response, depth * 3).items())[:depth])
        if progress is not None:
            progress(i, len(golden.queries))
    return run
