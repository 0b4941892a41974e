"""`rag-pipelines search` and `status` on the published example: --json, paging, sources."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.retrieval.models import SearchResponse

HOTEL = "hotel price cap per night"


def run(config: SourcesFile, *args: str) -> tuple[int, str, str]:
    """Invoke the CLI on the example's sources.yaml: exit code, stdout, stderr."""
    from rag_pipelines.cli import app

    path = config.pipeline.data_dir.parent / "sources.yaml"
    result = CliRunner().invoke(app, ["-c", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def test_search_json_is_a_search_response(example_config: SourcesFile) -> None:
    code, out, _ = run(example_config, "search", HOTEL, "--json", "-k", "3", "-m", "bm25")
    assert code == 0
    response = SearchResponse.model_validate_json(out)
    assert len(response.hits) == 3 and response.next_offset == 3
    assert response.hits[0].provenance.document_key == "policies/travel-policy.pdf"
    code, out, _ = run(
        example_config, "search", HOTEL, "--json", "-k", "3", "-m", "bm25", "--offset", "3"
    )
    page_two = SearchResponse.model_validate_json(out)
    assert [h.rank for h in page_two.hits] == [4, 5, 6]


def test_search_text_explains_the_score(example_config: SourcesFile) -> None:
    code, out, _ = run(example_config, "search", HOTEL, "-m", "hybrid", "--no-rerank")
    assert code == 0
    assert "score = RRF: sum of weight/(k + rank) over the legs" in out
    assert "more: --offset 5" in out


def test_search_unknown_source_is_an_error(example_config: SourcesFile) -> None:
    """Regression: `search --source nosuch` silently printed no hits."""
    code, out, err = run(example_config, "search", HOTEL, "--source", "nosuch")
    assert code == 2
    assert "unknown source(s) nosuch: the published index has handbook, policies" in err
    assert out == ""


def test_status_json(example_config: SourcesFile) -> None:
    code, out, _ = run(example_config, "status", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["published"]["sources"]) == {"policies", "handbook"}
    assert data["published"]["documents"] == 10
    assert data["versions"] == [data["published"]["version"]]
    assert set(data["freshness"]) == {"policies", "handbook"}
