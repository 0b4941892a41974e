"""Pages of a ranking, a score floor, and the check that filtered sources exist."""

from __future__ import annotations

from collections.abc import Iterable

from rag_pipelines.errors import UnknownSourceError
from rag_pipelines.retrieval.models import SearchResponse

MAX_OFFSET = 900  # the deepest page the HTTP API serves starts here (SearchRequest.offset)


def depth_for(offset: int, top_k: int) -> int:
    """How many hits to rank for a page: one more than it ends at, to know if another follows."""
    return offset + top_k + 1


def page_of(
    response: SearchResponse,
    offset: int,
    top_k: int,
    min_score: float | None = None,
    max_offset: int | None = None,
) -> SearchResponse:
    """Hits [offset, offset + top_k) of those scoring at least `min_score`, and the next offset.

    Ranks stay those of the full ranking, so page two starts at rank offset + 1. A next offset
    beyond `max_offset` (the deepest the caller's API accepts) is none: that page is the last.
    """
    kept = [h for h in response.hits if min_score is None or h.score >= min_score]
    page = kept[offset : offset + top_k]
    more = len(kept) > offset + top_k and (max_offset is None or offset + top_k <= max_offset)
    return response.model_copy(
        update={"hits": page, "offset": offset, "next_offset": offset + top_k if more else None}
    )


def require_known_sources(requested: Iterable[str], known: Iterable[str]) -> None:
    """Raise UnknownSourceError naming the known sources if any requested one is not among them."""
    names = sorted(set(known))
    unknown = sorted(set(requested) - set(names))
    if unknown:
        raise UnknownSourceError(unknown, names)
