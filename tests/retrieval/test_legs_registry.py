"""The legs' registry is the one list of legs: modes, weights and the tuning grid follow it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from rag_pipelines.config import legs as registry
from rag_pipelines.config.models import EvaluationSettings, FusionSettings, RetrievalSettings
from rag_pipelines.evaluation.tuning import grid
from rag_pipelines.retrieval.legs.base import LegQuery, LegResult


class TitleLeg:
    """A leg a contributor might add: ranks by something of its own, reads nothing."""

    name = "title"
    weight = 0.25
    ranks_text = True

    def needs(self, index: Any) -> tuple[str, ...]:
        """Nothing."""
        return ()

    def run(self, index: Any, query: LegQuery, prior: Mapping[str, LegResult]) -> LegResult:
        """No hits."""
        return LegResult([], np.zeros(0))


def test_builtin_legs_modes_and_weights() -> None:
    """dense, bm25 and graph, each a mode, plus hybrid; weights are each leg's default."""
    assert registry.leg_names() == ("dense", "bm25", "graph")
    assert registry.mode_names() == ("dense", "bm25", "graph", "hybrid")
    assert FusionSettings().weights == {"dense": 1.0, "bm25": 1.0, "graph": 0.5}
    assert EvaluationSettings().modes == ["dense", "bm25", "graph", "hybrid"]


@pytest.mark.parametrize(
    ("model", "data", "message"),
    [
        (RetrievalSettings, {"default_mode": "semantic"}, "unknown retrieval mode 'semantic'"),
        (EvaluationSettings, {"modes": ["dense", "sparse"]}, "known: ['dense', 'bm25'"),
        (FusionSettings, {"weights": {"vector": 1.0}}, "unknown retrieval leg 'vector'"),
    ],
)
def test_unknown_names_are_validation_errors_listing_the_known_ones(
    model: Any, data: dict[str, Any], message: str
) -> None:
    """A typo in a mode or leg name fails validation with the known names in the message."""
    with pytest.raises(ValidationError, match=message.replace("[", r"\[")):
        model.model_validate(data)


@pytest.mark.parametrize(
    ("mode", "seeded", "stages"),
    [
        ("dense", True, [["dense"]]),
        ("bm25", True, [["bm25"]]),
        ("graph", True, [["dense", "bm25"], ["graph"]]),
        ("graph", False, [["graph"]]),
        ("hybrid", True, [["dense", "bm25"], ["graph"]]),
        ("hybrid", False, [["dense", "bm25", "graph"]]),
    ],
)
def test_a_mode_runs_its_legs_in_dependency_stages(
    mode: str, seeded: bool, stages: list[list[str]]
) -> None:
    """Graph runs after the legs it is seeded from; independent legs share a stage."""
    needs = {"dense": (), "bm25": (), "graph": ("dense", "bm25") if seeded else ()}
    assert registry.plan(mode, needs) == stages


def test_the_tuning_grid_follows_the_legs() -> None:
    """4 k values × 5³ weight triples, minus the 5 × 4 with neither text leg weighted."""
    settings = grid()
    assert len(settings) == 4 * (5**3 - 5)
    assert all(set(w) == {"dense", "bm25", "graph"} for _, w in settings)
    assert all(w["dense"] or w["bm25"] for _, w in settings)


def test_a_new_leg_is_one_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registered leg becomes a mode, a fusion weight, a grid axis and a valid config name."""
    registry.legs()  # the built-in legs first
    monkeypatch.setitem(registry._legs, "title", TitleLeg())
    assert registry.mode_names() == ("dense", "bm25", "graph", "title", "hybrid")
    assert FusionSettings().weights["title"] == 0.25
    assert RetrievalSettings.model_validate({"default_mode": "title"}).default_mode == "title"
    assert len(grid(weights=(0.0, 1.0), ks=(60,))) == 2**4 - 2  # dense, bm25 or title weighted
    with pytest.raises(ValueError, match="exists already"):
        registry.register(TitleLeg())
