"""index.qdrant.cluster in sources.yaml: ranges and combinations refused with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pydantic import ValidationError

from assets.resources import VectorStoreResource
from rag_pipelines.config.loader import parse_sources
from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.errors import ConfigError

SERVER = {"url": "http://qdrant:6333"}


@pytest.mark.parametrize(
    ("qdrant", "message"),
    [
        ({"cluster": {"shard_number": 2}}, "set url: to the server"),
        ({**SERVER, "cluster": {"shard_number": 0}}, "greater than or equal to 1"),
        ({**SERVER, "cluster": {"replication_factor": 17}}, "less than or equal to 16"),
        (
            {**SERVER, "cluster": {"replication_factor": 2, "write_consistency_factor": 3}},
            "cannot exceed replication_factor (2)",
        ),
        (
            {**SERVER, "cluster": {"write_consistency_factor": 2}},
            "cannot exceed replication_factor (1)",
        ),
        ({**SERVER, "cluster": {"quantization": {"quantile": 0.2}}}, "greater than or equal"),
        (
            {**SERVER, "cluster": {"quantization": {"rescore": False, "oversampling": 3}}},
            "oversampling > 1 only helps with rescore: true",
        ),
        ({**SERVER, "cluster": {"quantization": {"type": "binary"}}}, "'int8'"),
        ({**SERVER, "cluster": {"hnsw": {"m": 0}}}, "greater than or equal to 4"),
        ({**SERVER, "cluster": {"upload": {"parallel": 0}}}, "greater than or equal to 1"),
        (
            {"backend": "local", "cluster": {"upload": {"parallel": 4}}},
            "needs backend 'server'",
        ),
        ({**SERVER, "cluster": {"shards": 2}}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_cluster_settings_are_refused(qdrant: dict[str, Any], message: str) -> None:
    """Each bad value or combination fails at load time with a message saying what to change."""
    with pytest.raises(ValidationError) as raised:
        QdrantSettings.model_validate(qdrant)
    assert message in str(raised.value)


def test_full_cluster_section_parses() -> None:
    """Every documented key is accepted and lands where the store reads it."""
    settings = QdrantSettings.model_validate(
        {
            **SERVER,
            "cluster": {
                "shard_number": 6,
                "replication_factor": 2,
                "write_consistency_factor": 2,
                "on_disk_vectors": True,
                "on_disk_sparse_index": True,
                "quantization": {"quantile": 0.99, "rescore": True, "oversampling": 2.0},
                "hnsw": {"m": 32, "ef_construct": 200, "bulk_load": True},
                "upload": {"batch_size": 512, "parallel": 8},
            },
        }
    )
    cluster = settings.cluster
    assert cluster is not None and cluster.quantization is not None
    assert (cluster.shard_number, cluster.replication_factor) == (6, 2)
    assert (cluster.hnsw.m, cluster.upload.parallel) == (32, 8)
    assert settings.backend == "server"


def test_local_backend_accepts_cluster_settings() -> None:
    """Local mode takes the same section (single-process upload) so configs can be tried here."""
    settings = QdrantSettings.model_validate(
        {"backend": "local", "cluster": {"shard_number": 3, "quantization": {}}}
    )
    assert settings.cluster is not None and settings.cluster.shard_number == 3


def test_sources_yaml_error_names_the_field(tmp_path: Path) -> None:
    """The loader's error points at index.qdrant.cluster with its line."""
    text = (
        "index:\n"
        "  qdrant:\n"
        "    url: http://qdrant:6333\n"
        "    cluster:\n"
        "      replication_factor: 2\n"
        "      write_consistency_factor: 5\n"
        "sources:\n"
        "  - name: docs\n"
        f"    connector: {{type: filesystem, root: {tmp_path}}}\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_sources(text, tmp_path / "sources.yaml", {})
    problem = "\n".join(raised.value.problems)
    assert "index.qdrant" in problem
    assert "cannot exceed replication_factor (2)" in problem


def test_cluster_settings_pass_through_the_dagster_resource(tmp_path: Path) -> None:
    """Regression: unset cluster fields (null) made Dagster refuse the resource config."""
    settings = QdrantSettings.model_validate(
        {"backend": "local", "cluster": {"shard_number": 3, "quantization": {}}}
    )
    resource = VectorStoreResource.from_settings(settings, str(tmp_path))
    seen: list[object] = []

    @dg.asset
    def probe(store: VectorStoreResource) -> None:
        """Opens the store the way pipeline assets do."""
        seen.append(getattr(store.get(), "cluster", None))

    assert dg.materialize([probe], resources={"store": resource}).success
    assert seen == [settings.cluster]
