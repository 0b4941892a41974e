"""experiments and embedding_finetune exist only when sources.yaml configures them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml
from typer.testing import CliRunner

from assets.definitions import build_definitions
from rag_pipelines.asset_graph import CORPUS_WIDE, OPT_IN_JOBS
from rag_pipelines.cli import app
from rag_pipelines.config import load_sources_file
from rag_pipelines.runner import plan_runs

OPTIONAL = {"experiments", "embedding_finetune"}


def definitions(tmp_path: Path, experiments: bool, finetune: bool) -> dg.Definitions:
    """Definitions for a one-source pipeline with the optional sections on or off."""
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "q.jsonl").write_text('{"_id": "q", "text": "t"}\n')
    (tmp_path / "qrels.tsv").write_text("q\td\t1\n")
    embedding: dict[str, object] = {"device": "cpu"}
    if finetune:
        embedding["finetune"] = {"queries": "q.jsonl", "qrels": "qrels.tsv"}
    data = {
        "embedding": embedding,
        "evaluation": {"experiments": [{"name": "small", "chunking": {"chunk_size": 64}}]}
        if experiments
        else {},
        "sources": [{"name": "docs", "connector": {"type": "filesystem", "root": "docs"}}],
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data))
    return build_definitions(load_sources_file(path))


@pytest.mark.parametrize(
    ("experiments", "finetune", "present"),
    [
        (False, False, set()),
        (True, False, {"experiments"}),
        (False, True, {"embedding_finetune"}),
        (True, True, OPTIONAL),
    ],
)
def test_optional_assets_follow_the_configuration(
    tmp_path: Path, experiments: bool, finetune: bool, present: set[str]
) -> None:
    """Opt-in: the default graph is unchanged; neither joins the build-and-publish job."""
    defs = definitions(tmp_path, experiments, finetune)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys & OPTIONAL == present
    assert not set(CORPUS_WIDE) & OPTIONAL
    job = defs.resolve_job_def("build_and_publish")
    assert not {k.to_user_string() for k in job.asset_layer.executable_asset_keys} & OPTIONAL
    for key in present:
        node = graph.get(dg.AssetKey(key))
        assert node.description and "\n" not in node.description
    if "experiments" in present:
        parents = {k.to_user_string() for k in graph.get(dg.AssetKey("experiments")).parent_keys}
        assert parents == {"documents", "published_index"}


def test_cli_runs_are_jobs_that_exist(tmp_path: Path) -> None:
    """Every job a CLI run launches, opt-in ones included, is in the configured definitions
    and materializes what it is named for."""
    defs = definitions(tmp_path, True, True)
    stages = plan_runs(["docs"], ("experiments", "embedding_finetune"))
    assert [s.runs[0].job for s in stages[-2:]] == [
        OPT_IN_JOBS["experiments"],
        OPT_IN_JOBS["embedding_finetune"],
    ]
    for asset, job in OPT_IN_JOBS.items():
        keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
        assert {k.to_user_string() for k in keys} == {asset}
    for stage in stages:
        for run in stage.runs:
            assert defs.resolve_job_def(run.job) is not None
    with pytest.raises(ValueError, match="not opt-in"):
        plan_runs(["docs"], ("published_index",))


@pytest.mark.parametrize("flag", ["--experiments", "--finetune"])
def test_cli_refuses_opt_in_runs_that_are_not_configured(tmp_path: Path, flag: str) -> None:
    """Asking for an opt-in asset sources.yaml does not declare exits 2 before any run starts."""
    definitions(tmp_path, False, False)
    result = CliRunner().invoke(app, ["-c", str(tmp_path / "sources.yaml"), "materialize", flag])
    assert result.exit_code == 2
    key = "evaluation.experiments" if flag == "--experiments" else "embedding.finetune"
    assert key in result.stderr
    assert not (tmp_path / ".rag" / "logs").exists()
