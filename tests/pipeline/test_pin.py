"""A rollback pins the served version: builds are not published past it until unpin or a
config change, with the pointer in LIVE.json or in the metadata DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag_pipelines.asset_graph import BLOCKING_CHECKS
from rag_pipelines.config.fingerprint import build_fingerprint
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.errors import PublishRefusedError
from rag_pipelines.index.stores import open_vector_store
from rag_pipelines.pipeline.pin import pin_status, unpin
from rag_pipelines.pipeline.publish import publish, rollback
from tests.dataops.corpus import write_config
from tests.index.test_versions import check, complete


def _config(tmp: Path, state: str, **sections: Any) -> SourcesFile:
    roots = {"alpha": tmp / "alpha", "beta": tmp / "beta"}
    for root in roots.values():
        root.mkdir(exist_ok=True)
    pipeline = {"state": {"metadata_db": f"sqlite:///{tmp / 'meta.sqlite'}"}} if state else {}
    pipeline |= sections.pop("pipeline", {})
    return write_config(tmp, roots, pipeline=pipeline, **sections)


@pytest.fixture(params=["", "db"], ids=["live-json", "metadata-db"])
def pinned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    """v1 and v2 published, then rolled back to v1; v3 built and checked since."""
    config = _config(tmp_path, request.param)
    ctx = PipelineContext(config)
    store = open_vector_store(config.index.qdrant, ctx.workspace)
    versions = []
    for _ in range(3):
        version = complete(ctx.registry)
        for name in BLOCKING_CHECKS:
            check(ctx.registry, version, name, True)
        versions.append(version)
    v1, v2, v3 = versions
    publish(ctx, v1, store)
    publish(ctx, v2, store)
    rollback(ctx, store)
    try:
        yield tmp_path, request.param, ctx, store, v1, v3
    finally:
        store.close()


def test_rollback_pins_and_a_build_is_not_published_past_it(pinned: tuple[Any, ...]) -> None:
    """The next publish keeps the rolled-back version live, says why, and raises nothing."""
    _, _, ctx, store, v1, v3 = pinned
    pin = pin_status(ctx, ctx.registry.live())
    assert pin is not None and pin.holds and pin.version == v1
    report = publish(ctx, v3, store)
    assert not report.changed and report.pointer.version == v1
    assert report.held.startswith(f"{v3} not published: pinned to {v1} by a rollback")
    assert "`rag-pipelines unpin`" in report.held
    live = ctx.registry.live()
    assert live is not None and live.version == v1 and live.pin is not None


def test_unpin_lets_the_next_build_publish(pinned: tuple[Any, ...]) -> None:
    """After unpin the same version is live, unpinned, and the next publish switches."""
    _, _, ctx, store, v1, v3 = pinned
    released = unpin(ctx)
    assert released.version == v1 and released.pin is None
    assert pin_status(ctx, ctx.registry.live()) is None
    with pytest.raises(PublishRefusedError, match="nothing to unpin"):
        unpin(ctx)
    report = publish(ctx, v3, store)
    assert report.changed and report.pointer.version == v3 and report.pointer.pin is None


@pytest.mark.parametrize(
    ("sections", "releases"),
    [
        ({"embedding": {"device": "cpu", "backend": "onnx-int8"}}, True),
        ({"index": {"retention": 3}}, True),
        ({"pipeline": {"sensors": {"source_change_interval_s": 7}}}, False),
        ({"sections": {"evaluation": {"modes": ["bm25"]}}}, False),
    ],
)
def test_a_config_change_releases_the_pin(
    pinned: tuple[Any, ...], sections: dict[str, Any], releases: bool
) -> None:
    """A change of what shapes a version releases the pin; operations settings do not."""
    tmp, state, ctx, store, _, v3 = pinned
    changed = PipelineContext(_config(tmp, state, **sections))
    assert (build_fingerprint(changed.config) != build_fingerprint(ctx.config)) is releases
    pin = pin_status(changed, changed.registry.live())
    assert pin is not None and pin.holds is not releases
    report = publish(changed, v3, store)
    assert report.changed is releases
    assert (report.pointer.version == v3) is releases
    if releases:
        assert report.pointer.pin is None and not report.held
