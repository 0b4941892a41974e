"""Experiment variants: configuration derivation, validation and the comparison table."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config import parse_sources
from rag_pipelines.config.models import ExperimentVariant, SourcesFile
from rag_pipelines.errors import ConfigError
from rag_pipelines.evaluation.experiments import (
    VariantResult,
    comparison_table,
    describe_changes,
    gate_mode_table,
    variant_config,
    variant_pipeline_name,
)

BASE = """\
pipeline: {name: kb, data_dir: state}
evaluation:
  tune_fusion: true
  experiments:
    - name: small_chunks
      chunking: {chunk_size: 64, chunk_overlap: 8}
retrieval:
  fusion: {k: 60, weights: {dense: 1.0, bm25: 1.0, graph: 0.5}}
defaults:
  chunking: {chunk_size: 200, chunk_overlap: 30}
sources:
  - name: plain
    connector: {type: filesystem, root: docs}
  - name: own
    connector: {type: filesystem, root: docs}
    chunking: {chunk_size: 160, chunk_overlap: 20, context_header: false}
"""


def load(tmp_path: Path, text: str = BASE) -> SourcesFile:
    """A sources.yaml in tmp_path (with a docs folder), parsed."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    return parse_sources(textwrap.dedent(text), tmp_path / "sources.yaml", {})


def variant(**fields: Any) -> ExperimentVariant:
    """A variant as sources.yaml would declare it (only these keys set)."""
    return ExperimentVariant.model_validate({"name": "v", **fields})


@pytest.mark.parametrize(
    ("fields", "plain", "own"),
    [
        ({"chunking": {"chunk_size": 400}}, (400, 30, True), (400, 20, False)),
        ({"chunking": {"chunk_overlap": 0}}, (200, 0, True), (160, 0, False)),
        ({"chunking": {"context_header": False}}, (200, 30, False), (160, 20, False)),
        ({}, (200, 30, True), (160, 20, False)),
    ],
)
def test_chunking_override_replaces_only_its_keys_in_every_source(
    tmp_path: Path,
    fields: dict[str, Any],
    plain: tuple[int, int, bool],
    own: tuple[int, int, bool],
) -> None:
    """A source keeps its own settings except the keys the variant sets."""
    base = load(tmp_path)
    derived = variant_config(base, variant(**fields), tmp_path / "x")
    for name, expected in (("plain", plain), ("own", own)):
        c = derived.chunking_for(derived.source(name))
        assert (c.chunk_size, c.chunk_overlap, c.context_header) == expected


def test_variant_state_lives_apart_and_is_never_an_experiment_itself(tmp_path: Path) -> None:
    """Own data dir and pipeline name; no nested experiments; the base is not modified."""
    base = load(tmp_path)
    derived = variant_config(base, variant(), tmp_path / "experiments" / "v")
    assert derived.pipeline.data_dir == tmp_path / "experiments" / "v"
    assert derived.pipeline.name == "kb_x_v"
    assert derived.evaluation.experiments == []
    assert base.evaluation.experiments[0].name == "small_chunks"
    assert base.pipeline.data_dir == tmp_path / "state"
    assert derived.sources == base.sources and derived.index == base.index


@pytest.mark.parametrize(
    ("fusion", "k", "weights", "tuned"),
    [
        (None, 60, {"dense": 1.0, "bm25": 1.0, "graph": 0.5}, True),
        ({"k": 10}, 10, {"dense": 1.0, "bm25": 1.0, "graph": 0.5}, False),
        ({"weights": {"graph": 0.0}}, 60, {"dense": 1.0, "bm25": 1.0, "graph": 0.0}, False),
    ],
)
def test_fusion_override_merges_weights_and_turns_tuning_off(
    tmp_path: Path,
    fusion: dict[str, Any] | None,
    k: int,
    weights: dict[str, float],
    tuned: bool,
) -> None:
    """Declared fusion is measured as declared; without one the variant is tuned like live."""
    fields = {"fusion": fusion} if fusion is not None else {}
    derived = variant_config(load(tmp_path), variant(**fields), tmp_path / "x")
    assert derived.retrieval.fusion.k == k
    assert derived.retrieval.fusion.weights == weights
    assert derived.evaluation.tune_fusion is tuned


def test_embedding_override_keeps_the_other_embedding_keys(tmp_path: Path) -> None:
    """Only the model changes; device, batch size and normalization stay the base's."""
    model = tmp_path / "m"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    base = load(
        tmp_path, BASE.replace("sources:", "embedding: {device: cpu, batch_size: 8}\nsources:")
    )
    derived = variant_config(base, variant(embedding={"model": str(model)}), tmp_path / "x")
    assert derived.embedding.model == str(model)
    assert (derived.embedding.device, derived.embedding.batch_size) == ("cpu", 8)


def test_an_override_that_breaks_a_source_names_the_variant(tmp_path: Path) -> None:
    """Overlap 170 fits the defaults (size 200) but not source 'own' (size 160)."""
    bad = variant(chunking={"chunk_overlap": 170})
    with pytest.raises(ConfigError) as raised:
        variant_config(load(tmp_path), bad, tmp_path / "x")
    assert "evaluation.experiments[v]" in str(raised.value)
    assert "chunk_overlap (170) must be smaller than chunk_size (160)" in str(raised.value)


@pytest.mark.parametrize(
    ("experiments", "message"),
    [
        ("[{name: a}, {name: a}]", "used twice: ['a']"),
        ("[{name: a, chunking: {chunk_sise: 10}}]", "chunk_sise"),
        ("[{name: Bad-Name}]", "name"),
        ("[{name: a, fusion: {k: 0}}]", "k"),
    ],
)
def test_bad_experiments_fail_at_load(tmp_path: Path, experiments: str, message: str) -> None:
    """Duplicate names, typos, bad names and bad values are load errors, not mid-run ones."""
    declared = "    - name: small_chunks\n      chunking: {chunk_size: 64, chunk_overlap: 8}\n"
    text = BASE.replace(declared, "").replace("  experiments:\n", f"  experiments: {experiments}\n")
    with pytest.raises(ConfigError, match="experiments") as raised:
        load(tmp_path, text)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "none"),
        ({"chunking": {"chunk_size": 64}}, "chunking.chunk_size=64"),
        (
            {"fusion": {"k": 10, "weights": {"graph": 0.0}}},
            "fusion.k=10, fusion.weights={'graph': 0.0}",
        ),
    ],
)
def test_describe_changes(fields: dict[str, Any], expected: str) -> None:
    """Only the keys the variant wrote are listed."""
    assert describe_changes(variant(**fields)) == expected


def test_pipeline_name_fits_the_limit() -> None:
    """Base 48 chars + variant 24 chars still makes a valid ≤48-char name."""
    name = variant_pipeline_name("a" * 48, "b" * 24)
    assert len(name) == 48 and name.endswith("_x_" + "b" * 24)


def result(name: str, hybrid: float, dense: float | None = None) -> VariantResult:
    """A result with nDCG@10 per mode on one set."""
    modes = {"hybrid": {"ndcg@10": hybrid, "recall@10": 0.5, "recall@100": 0.9, "mrr@10": 0.4}}
    if dense is not None:
        modes["dense"] = {"ndcg@10": dense}
    return VariantResult(name, "none", f"v-{name}", 10, {"gold": modes})


def test_comparison_table_by_hand() -> None:
    """Values per mode, best in bold, Δ against the first row, '—' where a mode is missing."""
    table = comparison_table(
        [result("live", 0.5, 0.4), result("a", 0.6), result("b", 0.45, 0.7)],
        ["dense", "hybrid"],
        "ndcg@10",
        "hybrid",
    )
    lines = table.splitlines()
    assert lines[0] == (
        "| variant | set | changes | version | chunks | nDCG@10 dense | nDCG@10 hybrid "
        "| Δ hybrid vs live |"
    )
    assert lines[2] == "| live | gold | none | v-live | 10 | 0.4000 | 0.5000 | — |"
    assert lines[3] == "| a | gold | none | v-a | 10 | — | **0.6000** | +0.1000 |"
    assert lines[4] == "| b | gold | none | v-b | 10 | **0.7000** | 0.4500 | -0.0500 |"


def test_gate_mode_table_lists_every_metric() -> None:
    """One row per variant and set with nDCG@10, Recall@10/@100, MRR@10."""
    lines = gate_mode_table([result("a", 0.6)], "hybrid").splitlines()
    assert lines[0] == "| variant | set | nDCG@10 | Recall@10 | Recall@100 | MRR@10 |"
    assert lines[2] == "| a | gold | 0.6000 | 0.5000 | 0.9000 | 0.4000 |"
