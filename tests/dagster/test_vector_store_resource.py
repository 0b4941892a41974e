"""The vector store resource carries every index.qdrant setting through Dagster's config."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.resources import VectorStoreResource
from rag_pipelines.config.models import QdrantSettings
from rag_pipelines.index.client_store import ClientVectorStore


def test_generation_versioning_round_trips_through_the_resource(tmp_path: Path) -> None:
    """Regression: a setting the resource did not declare made Definitions fail to load."""
    settings = QdrantSettings.model_validate(
        {"backend": "local", "versioning": "generation", "generation_avgdl_drift": 0.1}
    )
    resource = VectorStoreResource.from_settings(settings, str(tmp_path))
    assert (resource.versioning, resource.generation_avgdl_drift) == ("generation", 0.1)
    with dg.build_resources({"vector_store": resource}) as resources:
        store = resources.vector_store.get()
        try:
            assert isinstance(store, ClientVectorStore) and store.kind == "local"
        finally:
            store.close()
