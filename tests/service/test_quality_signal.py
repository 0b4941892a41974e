"""With no golden set the retrieval_quality check says "not measured", never a green pass."""

from __future__ import annotations

import dagster as dg

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext


def test_no_golden_set_is_a_warning_not_a_pass(
    example_build: tuple[SourcesFile, list[dg.ExecuteInProcessResult]],
) -> None:
    """Regression: retrieval_quality showed a green Passed while measuring nothing."""
    config, results = example_build
    assert not config.evaluation.sets
    (check,) = [
        e for e in results[-1].get_asset_check_evaluations() if e.check_name == "retrieval_quality"
    ]
    assert check.passed is False
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.description is not None and check.description.startswith("not measured:")
    assert "rag-pipelines golden" in check.description
    # A warning does not block: the run succeeded and the version was published.
    assert results[-1].success
    ctx = PipelineContext(config)
    live = ctx.registry.live()
    assert live is not None
    verdict = ctx.registry.checks(live.version)["retrieval_quality"]
    assert verdict.passed is True and verdict.detail.startswith("not measured:")
