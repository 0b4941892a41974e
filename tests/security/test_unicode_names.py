"""Unicode spellings of a name never change who reads it: globs compare both sides in NFC."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.access import AccessSettings
from rag_pipelines.config.models import SourceConfig
from rag_pipelines.context import PipelineContext
from rag_pipelines.index.access import AccessPolicy
from rag_pipelines.ingest.globs import matches
from rag_pipelines.ingest.ingestion import ingest_source
from rag_pipelines.retrieval.live import LiveIndex


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


TEAM = "équipe"
PLAN = "# Plan équipe\n\nThe team plan names the heron budget of ninety thousand euro.\n"
LUNCH = "# Lunch\n\nThe canteen serves soup on Mondays.\n"


@pytest.mark.parametrize(
    ("pattern", "document_id"),
    [
        (nfc("équipe/**"), nfd("équipe/plan.md")),
        (nfd("équipe/**"), nfc("équipe/plan.md")),
        (nfc("**/café.md"), nfd("notes/café.md")),
        (nfc("r[ée]sumé.md"), nfd("résumé.md")),
    ],
)
def test_access_glob_matches_every_spelling(pattern: str, document_id: str) -> None:
    """Regression: an NFD id under an NFC `access.documents` glob fell back to the source's
    groups (public), readable by every caller."""
    assert pattern != document_id[: len(pattern)]  # really spelled differently
    policy = AccessPolicy({"wiki": AccessSettings(documents={pattern: ["team"]})})
    assert policy.groups_of("wiki", document_id) == ("team",)
    assert not policy.readable("wiki", document_id, frozenset({"public"}))


def test_include_and_exclude_match_every_spelling() -> None:
    """Regression: an NFC exclude glob missed the NFD spelling of the same name."""
    assert not matches(nfd("équipe/plan.md"), ["**/*"], [nfc("équipe/**")])
    assert matches(nfd("équipe/plan.md"), [nfc("équipe/*.md")], [])


def test_filesystem_names_in_nfd_are_excluded_by_nfc_globs(tmp_path: Path) -> None:
    """A folder named in NFD on disk is excluded by an NFC glob; ids keep the disk's spelling."""
    root = tmp_path / "root"
    (root / nfd(TEAM)).mkdir(parents=True)
    (root / nfd(TEAM) / "plan.md").write_text(PLAN, encoding="utf-8")
    (root / nfd("café.md")).write_text(LUNCH, encoding="utf-8")
    (root / "lunch.md").write_text(LUNCH, encoding="utf-8")
    source = SourceConfig.model_validate(
        {
            "name": "docs",
            "connector": {"type": "filesystem", "root": str(root), "exclude": [f"{TEAM}/**"]},
        }
    )
    ids = sorted(d.id for d in ingest_source(source, {}).documents)
    assert ids == sorted([nfd("café.md"), "lunch.md"])  # not re-spelled in NFC


def test_object_key_in_nfd_is_hidden_from_other_groups_end_to_end(
    s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: an S3 key spelled in NFD under the NFC glob `équipe/**` was published as
    public and found by every caller's search."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    s3 = s3_server.client()
    s3.create_bucket(Bucket="unicode-access")
    s3.put_object(Bucket="unicode-access", Key=nfd(f"docs/{TEAM}/plan.md"), Body=PLAN.encode())
    s3.put_object(Bucket="unicode-access", Key="docs/lunch.md", Body=LUNCH.encode())
    connector = {
        "type": "object_storage",
        "url": "s3://unicode-access/docs",
        "endpoint_url": s3_server.endpoint_url,
        "region": "us-east-1",
        "credentials_env": {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY"},
    }
    data = {
        "pipeline": {"name": "unicode", "data_dir": str(tmp_path / "data")},
        "embedding": {"device": "cpu"},
        "sources": [
            {
                "name": "docs",
                "connector": connector,
                "access": {"documents": {nfc(f"{TEAM}/**"): ["team"]}},
            }
        ],
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = load_sources_file(path, env=os.environ)
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    live = LiveIndex(PipelineContext(config))
    query = "What is the team's heron budget?"
    try:
        with live.acquire() as index:
            public = index.search(query, 5, "hybrid", readers=frozenset({"public"}))
            team = index.search(query, 5, "hybrid", readers=frozenset({"public", "team"}))
    finally:
        live.stop()
    plan = nfd(f"{TEAM}/plan.md")  # the id keeps the key's own spelling
    assert [h.provenance.document_id for h in public.hits] == ["lunch.md"]
    assert plan in [h.provenance.document_id for h in team.hits]
