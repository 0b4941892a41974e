"""Which collections the generation GC may drop."""

from __future__ import annotations

import pytest

from rag_pipelines.pipeline.generation_gc import own_generation


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        ("rag_docs_v20261201T135701-300837_gen", True),
        ("rag_docs_v20261201T135701-300837_gen_bm25", True),
        ("rag_docs_x_v20261201T135701-300837_gen", False),  # pipeline docs_x on the same server
        ("rag_docs_v20261201T135701-300837", False),  # a copy-per-version collection
        ("rag_docs_live", False),
    ],
)
def test_gc_recognises_only_its_own_generations(name: str, ours: bool) -> None:
    """Regression: a prefix match alone let pipeline docs drop pipeline docs_x's generations."""
    assert own_generation("rag_docs_", name) is ours
