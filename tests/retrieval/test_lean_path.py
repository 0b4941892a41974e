"""The lean query path returns the hits the previous path returned on a SciFact slice.

`lean_reference.json` holds, per query, mode and filter, the top-10 hits (chunk id, score,
ranks per leg) computed by the engine before the lean path (commit "tests: SciFact-slice index
helper ..."): legs that carried payloads, dict-based fusion and the full graph-walk sort.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.retrieval.legs.registry import mode_names
from tests.retrieval.conftest import SliceVersion

REFERENCE = json.loads((Path(__file__).parent / "lean_reference.json").read_text())
FILTERS = {"all": None, "src": PayloadFilter(sources=("scifact",))}


@pytest.mark.parametrize("mode", mode_names())
@pytest.mark.parametrize("flt", sorted(FILTERS))
def test_lean_path_returns_the_reference_hits(
    scifact_version: SliceVersion, mode: str, flt: str
) -> None:
    """Same chunks in the same order, same scores; ranks per leg equal up to BM25 score ties."""
    for query_id, text in scifact_version.queries.items():
        expected = REFERENCE[f"{query_id}|{mode}|{flt}"]
        response = scifact_version.index.search(text, 10, mode, False, FILTERS[flt])
        got = [[h.chunk_id, h.score, h.ranks] for h in response.hits]
        assert [g[0] for g in got] == [e[0] for e in expected], (query_id, mode)
        for (_, score, ranks), (_, ref_score, ref_ranks) in zip(got, expected, strict=True):
            # Qdrant orders equal BM25 scores arbitrarily: a tie may swap two adjacent ranks.
            assert score == pytest.approx(ref_score, abs=2e-4)
            assert set(ranks) == set(ref_ranks)
            assert all(abs(ranks[leg] - ref_ranks[leg]) <= 1 for leg in ranks)
        assert all(h.provenance.document_id and h.text for h in response.hits)
