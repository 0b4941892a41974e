"""Shared state on real servers: a fresh S3 bucket (moto on loopback) or folder per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest


@pytest.fixture
def s3_url(s3_server, monkeypatch: pytest.MonkeyPatch) -> str:
    """s3://<fresh bucket>/state on the moto server, with its credentials in the environment."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"state-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    return f"s3://{bucket}/state"


@pytest.fixture(params=["s3", "file"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each object store the tests run against: S3 (moto) and file://."""
    if request.param == "s3":
        return str(request.getfixturevalue("s3_url"))
    return f"file://{tmp_path / 'shared-store'}"


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh PostgreSQL database."""
    return str(postgres_server.create_database(f"state_{uuid.uuid4().hex[:12]}"))
