"""Hostile object keys next to good ones in a real S3 server (moto on 127.0.0.1): each is its
own document or a typed failure, the good objects of the same run are always indexed."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourceConfig, SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.ingest.ingestion import IngestReport, ingest_source
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks

GOOD = {
    "docs/kettle.md": "# Zephyr Kettle\n\nThe Zephyr Kettle boils a litre in forty seconds.\n",
    "docs/boots/tundra.md": "# Tundra Boots\n\nTundra Boots keep feet warm to minus fifty.\n",
}
_buckets = itertools.count()


@pytest.fixture
def bucket(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket holding the good objects; credentials in the environment."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    name = f"hostile-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=name)
    for key, text in GOOD.items():
        put(s3_server, name, key, text.encode())
    return name


def put(s3_server: Any, bucket: str, key: str, body: bytes) -> None:
    """Write one object."""
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=body)


def connector(s3_server: Any, bucket: str, **extra: Any) -> dict[str, Any]:
    """The object_storage connector over s3://<bucket>/docs on the moto server."""
    return {
        "type": "object_storage",
        "url": f"s3://{bucket}/docs",
        "endpoint_url": s3_server.endpoint_url,
        "region": "us-east-1",
        "credentials_env": {"key": "AWS_ACCESS_KEY_ID", "secret": "AWS_SECRET_ACCESS_KEY"},
        **extra,
    }


def source(s3_server: Any, bucket: str, **extra: Any) -> SourceConfig:
    """Source `docs` over the bucket."""
    return SourceConfig.model_validate(
        {"name": "docs", "connector": connector(s3_server, bucket, **extra)}
    )


def write_config(tmp: Path, s3_server: Any, bucket: str, **source: Any) -> SourcesFile:
    """tmp/sources.yaml: one object storage source, state in tmp/data, the real model."""
    data = {
        "pipeline": {"name": "objects", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [{"name": "docs", "connector": connector(s3_server, bucket), **source}],
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_sources_file(path, env=os.environ)


def published_documents(config: SourcesFile) -> dict[str, str]:
    """Document id → its chunks' text in the published version (none published: {})."""
    ctx = PipelineContext(config)
    live = ctx.registry.live()
    if live is None:
        return {}
    texts: dict[str, str] = {}
    for chunk in snapshot_chunks(ctx, live.version):
        texts[chunk.document_id] = f"{texts.get(chunk.document_id, '')} {chunk.text}".strip()
    return texts


def kinds(report: IngestReport) -> dict[str, str]:
    """Failed document id → its error type."""
    return {f.document_id: f.error_type for f in report.failures}


def good_ids() -> set[str]:
    """The good objects' document ids."""
    return {key.removeprefix("docs/") for key in GOOD}


def test_keys_equal_after_stripping_slashes_are_two_documents_and_publish(
    s3_server: Any, bucket: str, tmp_path: Path
) -> None:
    """Regression: `docs//abs.md` and `docs/abs.md` both became `abs.md`; the duplicate chunk id
    failed data_quality and nothing published."""
    put(s3_server, bucket, "docs/abs.md", b"# Abstract\n\nThe plain abstract names orchids.\n")
    put(s3_server, bucket, "docs//abs.md", b"# Other\n\nThe doubled key names tulips.\n")
    config = write_config(tmp_path, s3_server, bucket)
    materialize_pipeline(config, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    texts = published_documents(config)
    assert good_ids() <= set(texts), sorted(texts)
    assert "orchids" in texts["abs.md"] and "tulips" not in texts["abs.md"]
    assert "tulips" in texts["/abs.md"]


def test_key_with_version_query_is_read_as_its_own_key(s3_server: Any, bucket: str) -> None:
    """Regression: `what.md?versionId=1.md` was read (bytes, tags) as `docs/what.md`, since s3fs
    takes `?versionId=` in a path for a version id."""
    put(s3_server, bucket, "docs/what.md", b"The bare key's own words: periwinkle.\n")
    query_key = "docs/what.md?versionId=1.md"
    put(s3_server, bucket, query_key, b"# Query\n\nThe query key says saffron.\n")
    tags = {"TagSet": [{"Key": "access-groups", "Value": "hr"}]}
    s3 = s3_server.client()
    s3.put_object_tagging(Bucket=bucket, Key=query_key, Tagging=tags)
    report = ingest_source(source(s3_server, bucket, access_groups={"source": "tags"}), {})
    documents = {d.id: d for d in report.documents}
    assert set(documents) == good_ids() | {"what.md", "what.md?versionId=1.md"}, kinds(report)
    query = documents["what.md?versionId=1.md"]
    assert "saffron" in query.text and "periwinkle" not in query.text
    assert query.access_groups == ["hr"]
    assert "periwinkle" in documents["what.md"].text and documents["what.md"].access_groups is None


def test_folder_marker_is_skipped_not_quarantined(s3_server: Any, bucket: str) -> None:
    """Regression: the zero-byte `folder/` marker consoles write was quarantined as EmptyFile
    on every run."""
    put(s3_server, bucket, "docs/folder/", b"")
    put(s3_server, bucket, "docs/folder/inside.md", b"# Inside\n\nA file in the folder.\n")
    put(s3_server, bucket, "docs/empty.md", b"")
    docs = source(s3_server, bucket)
    first = ingest_source(docs, {})
    second = ingest_source(docs, {d.id: d for d in first.documents})
    for report in (first, second):
        assert {d.id for d in report.documents} == good_ids() | {"folder/inside.md"}
        assert kinds(report) == {"empty.md": "EmptyFile"}  # an empty file is still one


def test_object_grown_after_listing_is_refused_on_what_is_read(s3_server: Any, bucket: str) -> None:
    """Regression: an object replaced between listing (219 B) and read (1.3 MiB) bypassed
    max_file_mb and was indexed."""
    small = b"# Grows\n\nSmall when listed.\n"
    put(s3_server, bucket, "docs/zz-grows.txt", small)
    big = b"# Grows\n\n" + b"Padding words fill the object.\n" * 44_000  # ~1.3 MiB

    def replace_after_first(done: int, total: int) -> None:
        if done == 1:  # zz-grows.txt is read last: listed small, replaced before its read
            put(s3_server, bucket, "docs/zz-grows.txt", big)

    report = ingest_source(source(s3_server, bucket, max_file_mb=1), {}, replace_after_first)
    assert {d.id for d in report.documents} == good_ids()
    [failure] = report.failures
    assert (failure.document_id, failure.error_type) == ("zz-grows.txt", "TooLarge")
    assert f"listed at {len(small)} bytes" in failure.reason
