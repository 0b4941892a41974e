"""The lean query path returns the hits the previous path returned on a SciFact slice.

`lean_reference.json` holds, per query, mode and filter, the top-10 hits (chunk id, score,
ranks per leg) computed by the engine before the lean path (commit "tests: SciFact-slice index
helper ..."): legs that carried payloads, dict-based fusion and the full graph-walk sort.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_pipelines.config.legs import mode_names
from rag_pipelines.index.vector_store import PayloadFilter
from tests.retrieval.conftest import SliceVersion

REFERENCE = json.loads((Path(__file__).parent / "lean_reference.json").read_text())
TIE = 5e-4
FILTERS = {"all": None, "src": PayloadFilter(sources=("scifact",))}


@pytest.mark.parametrize("mode", mode_names())
@pytest.mark.parametrize("flt", sorted(FILTERS))
def test_lean_path_returns_the_reference_hits(
    scifact_version: SliceVersion, mode: str, flt: str
) -> None:
    """Same chunks in the same order with the same scores and leg ranks, up to BM25 ties.

    Qdrant orders equal BM25 scores arbitrarily, and each build may order them differently: a
    tie can swap two adjacent BM25 ranks, which moves a fused score by at most TIE.
    """
    for query_id, text in scifact_version.queries.items():
        expected = REFERENCE[f"{query_id}|{mode}|{flt}"]
        response = scifact_version.index.search(text, 10, mode, False, FILTERS[flt])
        got = [(h.chunk_id, h.score, h.ranks) for h in response.hits]
        assert len(got) == len(expected)
        ref_scores = [e[1] for e in expected]
        for i, ((chunk_id, score, ranks), (ref_id, ref_score, ref_ranks)) in enumerate(
            zip(got, expected, strict=True)
        ):
            assert score == pytest.approx(ref_score, abs=TIE), (query_id, i)
            if chunk_id != ref_id:
                assert _tied(ref_scores, i), (query_id, i, got, expected)
                continue
            assert set(ranks) == set(ref_ranks)
            assert all(abs(ranks[leg] - ref_ranks[leg]) <= 2 for leg in ranks)
        assert all(h.provenance.document_id and h.text for h in response.hits)


def _tied(scores: list[float], i: int) -> bool:
    """The i-th score is within TIE of a neighbour's (or is the last, next to an unseen one)."""
    neighbours = [scores[j] for j in (i - 1, i + 1) if 0 <= j < len(scores)]
    return i == len(scores) - 1 or any(abs(scores[i] - n) <= TIE for n in neighbours)
