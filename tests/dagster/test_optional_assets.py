"""experiments and embedding_finetune exist only when sources.yaml configures them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.definitions import CORPUS_WIDE, build_definitions
from rag_pipelines.config import load_sources_file

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
