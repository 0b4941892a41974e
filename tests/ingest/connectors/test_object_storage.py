"""Object storage connector against moto's S3-compatible server on 127.0.0.1."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.connectors.object_storage import ObjectStorageConnector
from rag_pipelines.ingest.ingestion import ingest_source, list_source
from tests.ingest.connectors.flow import changed, run_once, write_config

_buckets = itertools.count()


@pytest.fixture
def bucket(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; credentials reach the connector through named environment variables."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    name = f"docs-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def _connector(s3_server: Any, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object_storage",
        "url": f"s3://{bucket}/team",
        "endpoint_url": s3_server.endpoint_url,
        "region": "us-east-1",
        "credentials_env": {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY"},
        **extra,
    }


def _put(s3_server: Any, bucket: str, key: str, body: str, **extra: Any) -> None:
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=body.encode(), **extra)


def _source(connector: dict[str, Any]) -> SourceConfig:
    return SourceConfig.model_validate({"name": "docs", "connector": connector})


def test_lists_prefix_with_globs_and_etags(s3_server: Any, bucket: str) -> None:
    """Only objects under the prefix that match include and not exclude are listed."""
    _put(s3_server, bucket, "team/a.md", "# A\n\nalpha")
    _put(s3_server, bucket, "team/drafts/b.md", "# B\n\nbeta")
    _put(s3_server, bucket, "team/c.txt", "gamma")
    _put(s3_server, bucket, "other/d.md", "# D\n\ndelta")
    source = _source(_connector(s3_server, bucket, include=["**/*.md"], exclude=["drafts/**"]))
    listing = list_source(source)
    assert [i.id for i in listing.items] == ["a.md"]
    [item] = listing.items
    assert item.uri == f"s3://{bucket}/team/a.md"
    assert item.metadata["etag"]
    assert item.size_bytes == len("# A\n\nalpha")


def test_change_detection_by_etag(s3_server: Any, bucket: str) -> None:
    """An unchanged ETag is not re-read; a rewritten object is; a removed one is deleted."""
    _put(s3_server, bucket, "team/a.md", "# A\n\nalpha")
    _put(s3_server, bucket, "team/b.md", "# B\n\nbeta")
    source = _source(_connector(s3_server, bucket))
    connector = source.connector
    assert isinstance(connector, ObjectStorageConnector)
    first = ingest_source(source, {})
    before = connector.signature()
    _put(s3_server, bucket, "team/a.md", "# A\n\nalpha, revised")
    s3_server.client().delete_object(Bucket=bucket, Key="team/b.md")
    assert connector.signature() != before
    second = ingest_source(source, {d.id: d for d in first.documents})
    assert (second.changed, second.deleted, second.added) == (["a.md"], ["b.md"], [])
    third = ingest_source(source, {d.id: d for d in second.documents})
    assert third.unchanged == ["a.md"]


def test_access_groups_from_tags_and_metadata(s3_server: Any, bucket: str) -> None:
    """Groups come from an object tag or a user-metadata key; none set means the source's."""
    _put(s3_server, bucket, "team/hr.md", "# HR\n\nsalaries", Tagging="access-groups=hr:finance")
    _put(s3_server, bucket, "team/all.md", "# All\n\nlunch")
    tags = _source(
        _connector(s3_server, bucket, access_groups={"source": "tags", "separator": ":"})
    )
    groups = {i.id: i.access_groups for i in list_source(tags).items}
    assert groups == {"all.md": None, "hr.md": ("finance", "hr")}
    _put(s3_server, bucket, "team/m.md", "# M\n\nmeta", Metadata={"access-groups": "legal"})
    meta = _source(_connector(s3_server, bucket, access_groups={"source": "metadata"}))
    assert {i.id: i.access_groups for i in list_source(meta).items}["m.md"] == ("legal",)


def test_unreachable_endpoint_deletes_nothing(s3_server: Any, bucket: str) -> None:
    """Regression guard: a listing that fails must not read as an empty bucket."""
    _put(s3_server, bucket, "team/a.md", "# A\n\nalpha")
    first = ingest_source(_source(_connector(s3_server, bucket)), {})
    gone = _source(
        _connector(s3_server, bucket, endpoint_url="http://127.0.0.1:9", retries=1, timeout_s=1)
    )
    assert not gone.connector.available()  # type: ignore[attr-defined]
    second = ingest_source(gone, {d.id: d for d in first.documents})
    assert (second.deleted, second.kept) == ([], ["a.md"])


def test_missing_secret_variable_is_a_listing_failure(s3_server: Any, bucket: str) -> None:
    """A credentials variable that is not set is reported by name, not as a stack trace."""
    connector = _connector(s3_server, bucket, credentials_env={"key": "NOT_SET_ANYWHERE"})
    listing = list_source(_source(connector))
    assert "$NOT_SET_ANYWHERE is not set" in listing.failures[0].reason


def test_pipeline_reflects_add_change_delete(
    s3_server: Any, bucket: str, tmp_path: Path, fake_embedder: Any, tokenizer: Any
) -> None:
    """Objects flow to the index; the sensor sees edits and deletes, and they reach the index."""
    _put(s3_server, bucket, "team/a.md", "# Alpha\n\nThe alpha plan ships in May.")
    _put(s3_server, bucket, "team/b.md", "# Beta\n\nBeta is retired.", Tagging="access-groups=ops")
    config = write_config(tmp_path, _connector(s3_server, bucket, access_groups={"source": "tags"}))
    first = run_once(config, fake_embedder, tokenizer)
    assert sorted(first.texts) == ["a.md", "b.md"]
    assert (first.groups["a.md"], first.groups["b.md"]) == (["public"], ["ops"])
    assert changed(config) == []
    _put(s3_server, bucket, "team/a.md", "# Alpha\n\nThe alpha plan ships in June.")
    s3_server.client().delete_object(Bucket=bucket, Key="team/b.md")
    _put(s3_server, bucket, "team/c.md", "# Gamma\n\nGamma is new.")
    assert changed(config) == ["docs"]
    second = run_once(config, fake_embedder, tokenizer)
    assert (second.report.added, second.report.changed, second.report.deleted) == (
        ["c.md"],
        ["a.md"],
        ["b.md"],
    )
    assert sorted(second.texts) == ["a.md", "c.md"]
    assert "June" in second.texts["a.md"] and "May" not in second.texts["a.md"]
    tags = {"TagSet": [{"Key": "access-groups", "Value": "hr"}]}
    s3_server.client().put_object_tagging(Bucket=bucket, Key="team/c.md", Tagging=tags)
    third = run_once(config, fake_embedder, tokenizer)  # a retag alone: content unchanged
    assert "c.md" in third.report.unchanged and third.groups["c.md"] == ["hr"]


@pytest.mark.parametrize("url", ["s3://", "ftp://bucket/x", "bucket/prefix"])
def test_bad_urls_are_config_errors(url: str) -> None:
    """A URL that names no bucket or another protocol fails at load, saying what to write."""
    with pytest.raises(ValueError, match="not an object storage URL"):
        _source({"type": "object_storage", "url": url})
