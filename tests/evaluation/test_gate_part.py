"""Which judged queries the gate scores: never those something was trained or tuned on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.evaluation.quality import gate_part


def _config(tmp_path: Path, **sections: Any) -> SourcesFile:
    queries, qrels = tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    queries.write_text('{"_id": "q1", "text": "a claim"}\n', encoding="utf-8")
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    judged = {"queries": str(queries), "qrels": str(qrels)}
    data: dict[str, Any] = {
        "pipeline": {"name": "docs", "data_dir": str(tmp_path / "data")},
        "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": str(tmp_path)}}],
        "evaluation": {"sets": [{"name": "golden", **judged}]},
    }
    for section, value in sections.items():
        data.setdefault(section, {}).update(value(judged) if callable(value) else value)
    return SourcesFile.model_validate(data)


@pytest.mark.parametrize(
    ("sections", "part"),
    [
        ({}, "all"),
        ({"evaluation": {"tune_fusion": True}}, "holdout"),
        ({"embedding": lambda judged: {"finetune": judged}}, "holdout"),
        ({"retrieval": lambda judged: {"rerank": {"train": judged}}}, "holdout"),
    ],
)
def test_the_gate_scores_held_back_queries_when_anything_trains_on_the_others(
    tmp_path: Path, sections: dict[str, Any], part: str
) -> None:
    """Regression: with tune_fusion off the gate scored all judged queries, including those a
    fine-tuned embedder (or a trained reranker) had been trained on."""
    assert gate_part(_config(tmp_path, **sections)) == part
