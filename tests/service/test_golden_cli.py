"""`rag-pipelines golden`: a CSV and feedback become a BEIR set the quality gate can use."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from rag_pipelines.client import RagClient
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.evaluation.golden import load_beir

CSV = """question,document_ids
How many days per week can I work remotely?,remote-work-policy.md
What is the hotel price cap per night?,policies/travel-policy.pdf
What is the hotel price cap per night?,expense-policy.html
"""


def run(config_path: Path, *args: str) -> tuple[int, str, str]:
    """Invoke the CLI: exit code, stdout, stderr."""
    from rag_pipelines.cli import app

    result = CliRunner().invoke(app, ["-c", str(config_path), *args])
    return result.exit_code, result.stdout, result.stderr


def sources_path(config: SourcesFile) -> Path:
    """The example's sources.yaml."""
    return config.pipeline.data_dir.parent / "sources.yaml"


def test_csv_becomes_a_golden_set_the_gate_can_evaluate(
    example_config: SourcesFile, tmp_path: Path
) -> None:
    (tmp_path / "judged.csv").write_text(CSV, encoding="utf-8")
    out = tmp_path / "golden"
    code, stdout, stderr = run(
        sources_path(example_config),
        "golden",
        str(out),
        "--csv",
        str(tmp_path / "judged.csv"),
        "--no-feedback",
        "--name",
        "mine",
    )
    assert code == 0, stderr
    assert "wrote 2 question(s), 3 relevant document(s)" in stdout
    assert "      source: policies" in stdout
    golden = load_beir(out / "queries.jsonl", out / "qrels.tsv")
    by_text = {text: golden.qrels[q] for q, text in golden.queries.items()}
    assert by_text["What is the hotel price cap per night?"] == {
        "travel-policy.pdf": 1,
        "expense-policy.html": 1,
    }
    # The snippet the command prints, pasted into sources.yaml, gives `eval` real numbers.
    snippet = yaml.safe_load(stdout.split("add to sources.yaml:\n", 1)[1])
    data = yaml.safe_load(sources_path(example_config).read_text(encoding="utf-8"))
    with_set = tmp_path / "sources.yaml"
    with_set.write_text(yaml.safe_dump({**data, **snippet}), encoding="utf-8")
    code, stdout, stderr = run(with_set, "eval", "--json")
    assert code == 0, stderr
    (scores,) = json.loads(stdout)["versions"].values()
    assert scores["mine"]["hybrid"]["ndcg@10"] > 0.5


def test_unknown_ids_are_errors_with_a_suggestion(
    example_config: SourcesFile, tmp_path: Path
) -> None:
    csv_path = tmp_path / "judged.csv"
    csv_path.write_text("question,document_ids\nhotel cap?,travel-polcy.pdf;nosuch.md\n")
    code, _, stderr = run(
        sources_path(example_config), "golden", str(tmp_path / "g"), "--csv", str(csv_path)
    )
    assert code == 2
    assert "2 problem(s)" in stderr
    assert "'travel-polcy.pdf' (for 'hotel cap?') is not in the index" in stderr
    assert "did you mean 'travel-policy.pdf'?" in stderr
    assert not (tmp_path / "g").exists()


def test_feedback_becomes_golden_questions(
    example_config: SourcesFile, base_url: str, tmp_path: Path
) -> None:
    question = "Who do I ask about a broken laptop?"
    with RagClient(base_url) as client:
        hit = client.search(question, top_k=1).hits[0]
        client.feedback(question, hit.chunk_id, useful=True)
    out = tmp_path / "fb"
    code, _, stderr = run(sources_path(example_config), "golden", str(out))
    assert code == 0, stderr
    golden = load_beir(out / "queries.jsonl", out / "qrels.tsv")
    by_text = {text: golden.qrels[q] for q, text in golden.queries.items()}
    assert by_text[question] == {hit.provenance.document_id: 1}
