"""Sensors and the nightly schedule, ticked with dg.build_sensor_context on real sources."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets.definitions import build_definitions, build_parts
from assets.runs import materialize_pipeline
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.ingest.signature import listing_signature
from tests.dataops.corpus import (
    KRILL,
    NIMBUS,
    ORBAX,
    SOURCES,
    VELVET,
    ZEPHYR,
    write_config,
    write_corpus,
    write_product,
)

SOURCE_SENSOR = "source_change_sensor"
MODEL_SENSOR = "model_version_sensor"
REFRESH_SENSOR = "index_refresh_sensor"


def tick(
    config: SourcesFile, name: str, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorExecutionData:
    """Evaluate one tick of a pipeline's sensor, as the daemon would, from `cursor`."""
    defs = build_definitions(config)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return defs.get_sensor_def(name).evaluate_tick(context)


def ingest_documents(config: SourcesFile, instance: dg.DagsterInstance, source: str) -> None:
    """Materialize one source's documents (what records the listing the sensor compares with)."""
    parts = build_parts(config)
    result = dg.materialize(
        [*parts.assets, *parts.checks],
        selection=["documents"],
        partition_key=source,
        instance=instance,
        resources=parts.resources,
    )
    assert result.success


@dataclass
class Sources:
    """Two filesystem sources, both ingested, and the instance the sensor runs against."""

    roots: dict[str, Path]
    config: SourcesFile
    instance: dg.DagsterInstance

    def tick(self, cursor: str | None = None) -> dg.SensorExecutionData:
        """One tick of the source-change sensor."""
        return tick(self.config, SOURCE_SENSOR, self.instance, cursor)

    def signature(self, source: str) -> str:
        """The source's listing signature now."""
        return listing_signature(self.config.source(source))


@pytest.fixture
def sources(tmp_path: Path) -> Iterator[Sources]:
    """The corpus, ingested once per source, with nothing changed since."""
    roots = write_corpus(tmp_path, age_s=600)
    config = write_config(tmp_path, roots)
    with dg.DagsterInstance.ephemeral() as instance:
        for source in SOURCES:
            ingest_documents(config, instance, source)
        yield Sources(roots, config, instance)


def _requested(data: dg.SensorExecutionData) -> list[str]:
    return sorted(str(r.partition_key) for r in data.run_requests or [])


def _add(s: Sources) -> None:
    write_product(s.roots, VELVET)


def _edit_same_size(s: Sources) -> None:
    edited = replace(KRILL, text=KRILL.text.replace("sixty", "fifty"))
    assert len(edited.text) == len(KRILL.text)
    write_product(s.roots, edited)


def _delete(s: Sources) -> None:
    (s.roots["alpha"] / ORBAX.path).unlink()


def _rename(s: Sources) -> None:
    (s.roots["beta"] / NIMBUS.path).rename(s.roots["beta"] / "umbrellas-nimbus.md")


def _move_into_folder(s: Sources) -> None:
    (s.roots["alpha"] / "kitchen").mkdir()
    (s.roots["alpha"] / ZEPHYR.path).rename(s.roots["alpha"] / "kitchen" / ZEPHYR.path)


@pytest.mark.parametrize(
    ("change", "source"),
    [
        (_add, "alpha"),
        (_edit_same_size, "beta"),
        (_delete, "alpha"),
        (_rename, "beta"),
        (_move_into_folder, "alpha"),
    ],
)
def test_a_change_requests_a_run_for_its_source_only(
    sources: Sources, change: Callable[[Sources], None], source: str
) -> None:
    change(sources)
    data = sources.tick()
    assert _requested(data) == [source]
    (request,) = data.run_requests or []
    assert request.tags["rag/trigger"] == "source-change"
    assert data.cursor is not None
    assert json.loads(data.cursor) == {source: sources.signature(source)}
    # The next tick carries the cursor on: the change is already requested, so no second run.
    again = sources.tick(data.cursor)
    assert not again.run_requests
    assert again.skip_message == "no source changed since its last ingest"
    assert again.cursor == data.cursor


def test_nothing_changed_since_the_last_ingest_skips(sources: Sources) -> None:
    data = sources.tick()
    assert not data.run_requests
    assert data.skip_message == "no source changed since its last ingest"
    assert data.cursor is None


@pytest.mark.parametrize("name", [".notes.md", "~$lock.docx", "Thumbs.db", ".DS_Store"])
def test_files_ingestion_never_reads_request_nothing(sources: Sources, name: str) -> None:
    """Regression: Thumbs.db counted in the listing signature, which ingestion skips, so a
    thumbnail cache written by a file browser requested an ingest run that changed nothing."""
    (sources.roots["alpha"] / name).write_bytes(b"not a document")
    assert not sources.tick().run_requests


def test_changes_in_both_sources_request_both(sources: Sources) -> None:
    _delete(sources)
    _edit_same_size(sources)
    data = sources.tick()
    assert _requested(data) == ["alpha", "beta"]
    keys = [r.run_key for r in data.run_requests or []]
    assert len(set(keys)) == 2
    assert json.loads(data.cursor or "{}") == {s: sources.signature(s) for s in SOURCES}


def test_cursor_round_trip_through_an_ingest_and_a_second_change(sources: Sources) -> None:
    _add(sources)
    first = sources.tick()
    assert _requested(first) == ["alpha"]
    ingest_documents(sources.config, sources.instance, "alpha")  # the requested run
    after_run = sources.tick(first.cursor)
    assert not after_run.run_requests
    # A fresh sensor (no cursor) agrees: alpha now matches its last ingest.
    assert not sources.tick().run_requests

    (sources.roots["alpha"] / VELVET.path).unlink()
    _edit_same_size(sources)
    second = sources.tick(after_run.cursor)
    assert _requested(second) == ["alpha", "beta"]
    first_key = (first.run_requests or [])[0].run_key
    assert first_key not in {r.run_key for r in second.run_requests or []}
    assert json.loads(second.cursor or "{}") == {s: sources.signature(s) for s in SOURCES}


def test_a_source_whose_root_vanished_requests_nothing(sources: Sources) -> None:
    """Regression: an unmounted root listed as empty, so the sensor asked to ingest it."""
    sources.roots["alpha"].rename(sources.roots["alpha"].with_name("alpha-unmounted"))
    _edit_same_size(sources)
    assert _requested(sources.tick()) == ["beta"]


# Model-version sensor and index-refresh sensor: they need a published version.


@dataclass
class Published:
    """A pipeline published with the bundled model, and the same pipeline naming other models."""

    tmp: Path
    roots: dict[str, Path]
    bundled: SourcesFile
    retuned: SourcesFile
    instance: dg.DagsterInstance

    def live_version(self) -> str:
        """The version LIVE.json names."""
        pointer = PipelineContext(self.bundled).registry.live()
        assert pointer is not None
        return pointer.version


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, retuned_model: Path) -> Iterator[Published]:
    """The corpus built and published with the bundled MiniLM."""
    tmp = tmp_path_factory.mktemp("sensors")
    roots = write_corpus(tmp)
    bundled = write_config(tmp, roots)
    retuned = write_config(
        tmp, roots, embedding={"model": str(retuned_model)}, file_name="retuned.yaml"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        materialize_pipeline(bundled, instance)
        yield Published(tmp, roots, bundled, retuned, instance)


@pytest.mark.slow
def test_model_sensor_skips_while_the_live_version_uses_the_configured_model(
    published: Published,
) -> None:
    data = tick(published.bundled, MODEL_SENSOR, published.instance)
    assert not data.run_requests
    assert data.skip_message == "the live index uses the configured model"


def test_model_sensor_skips_before_anything_is_published(tmp_path: Path) -> None:
    config = write_config(tmp_path, write_corpus(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        data = tick(config, MODEL_SENSOR, instance)
    assert not data.run_requests


@pytest.mark.slow
@pytest.mark.parametrize("change", ["retuned weights", "normalization off"])
def test_model_sensor_requests_a_full_reembedding_when_the_model_changes(
    published: Published, change: str
) -> None:
    config = (
        published.retuned
        if change == "retuned weights"
        else write_config(
            published.tmp, published.roots, embedding={"normalize": False}, file_name="raw.yaml"
        )
    )
    data = tick(config, MODEL_SENSOR, published.instance)
    assert _requested(data) == sorted(SOURCES)  # every source: a full re-embedding
    tags = {r.tags["rag/trigger"] for r in data.run_requests or []}
    assert tags == {"model-change"}
    assert data.cursor
    again = tick(config, MODEL_SENSOR, published.instance, data.cursor)
    assert not again.run_requests
    assert again.skip_message and "already requested" in again.skip_message


def _model_run_keys(data: dg.SensorExecutionData) -> set[str]:
    keys = {str(r.run_key) for r in data.run_requests or []}
    assert len(keys) == len(SOURCES), data.skip_message
    return keys


@pytest.mark.slow
def test_switching_back_to_an_earlier_model_requests_runs_again(
    tmp_path: Path, retuned_model: Path
) -> None:
    """Regression: the model sensor keyed runs and its cursor by the configured model alone, so
    a second switch to a model (or normalization) used before reused the old run keys, which
    Dagster drops as duplicates, or was skipped as "already requested"."""
    roots = write_corpus(tmp_path)
    bundled = write_config(tmp_path, roots)
    retuned = write_config(
        tmp_path, roots, embedding={"model": str(retuned_model)}, file_name="retuned.yaml"
    )
    raw = write_config(tmp_path, roots, embedding={"normalize": False}, file_name="raw.yaml")
    with dg.DagsterInstance.ephemeral() as instance:
        materialize_pipeline(bundled, instance)
        to_retuned = tick(retuned, MODEL_SENSOR, instance)
        first = _model_run_keys(to_retuned)
        materialize_pipeline(retuned, instance)  # what the requested runs and the refresh do
        back = tick(bundled, MODEL_SENSOR, instance, to_retuned.cursor)
        second = _model_run_keys(back)
        materialize_pipeline(bundled, instance)
        again = tick(retuned, MODEL_SENSOR, instance, back.cursor)
        assert not _model_run_keys(again) & first  # a reused key would be dropped by Dagster

        to_raw = tick(raw, MODEL_SENSOR, instance, again.cursor)
        _model_run_keys(to_raw)
        materialize_pipeline(raw, instance)
        normalized_again = tick(bundled, MODEL_SENSOR, instance, to_raw.cursor)
        assert not _model_run_keys(normalized_again) & second


# Index-refresh sensor: builds once new embeddings exist and no ingest is running.


def _embeddings_materialized(instance: dg.DagsterInstance, source: str) -> int:
    instance.report_runless_asset_event(dg.AssetMaterialization("embeddings", partition=source))
    records = instance.fetch_materializations(dg.AssetKey("embeddings"), limit=1).records
    return records[0].storage_id


def test_refresh_sensor_builds_once_per_new_embeddings(tmp_path: Path) -> None:
    config = write_config(tmp_path, write_corpus(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        nothing = tick(config, REFRESH_SENSOR, instance)
        assert not nothing.run_requests
        assert nothing.skip_message == "no embeddings materialized yet"

        latest = _embeddings_materialized(instance, "alpha")
        first = tick(config, REFRESH_SENSOR, instance)
        (request,) = first.run_requests or []
        assert request.run_key == f"refresh:{latest}"
        assert request.tags["rag/trigger"] == "new-embeddings"
        assert first.cursor == str(latest)

        done = tick(config, REFRESH_SENSOR, instance, first.cursor)
        assert not done.run_requests
        assert done.skip_message == "no new embeddings since the last build"

        newer = _embeddings_materialized(instance, "beta")
        second = tick(config, REFRESH_SENSOR, instance, done.cursor)
        assert [r.run_key for r in second.run_requests or []] == [f"refresh:{newer}"]


def test_refresh_sensor_waits_for_running_ingests(tmp_path: Path) -> None:
    config = write_config(tmp_path, write_corpus(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        _embeddings_materialized(instance, "alpha")
        run = instance.add_run(
            dg.DagsterRun(job_name="ingest_source", status=dg.DagsterRunStatus.STARTED)
        )
        waiting = tick(config, REFRESH_SENSOR, instance)
        assert not waiting.run_requests
        assert waiting.skip_message == "waiting for ingest runs to finish"
        assert waiting.cursor is None  # the build is still owed once the ingest ends

        instance.report_run_failed(run)
        assert tick(config, REFRESH_SENSOR, instance).run_requests


# The nightly schedule: cron and time zone come from sources.yaml.


@pytest.mark.parametrize(
    ("schedule", "cron", "timezone"),
    [
        (None, "0 2 * * *", "UTC"),
        ({"cron": "30 3 * * 1-5", "timezone": "Europe/Berlin"}, "30 3 * * 1-5", "Europe/Berlin"),
        ({"timezone": "America/New_York"}, "0 2 * * *", "America/New_York"),
    ],
)
def test_nightly_schedule_takes_cron_and_time_zone_from_sources_yaml(
    tmp_path: Path, schedule: dict[str, str] | None, cron: str, timezone: str
) -> None:
    pipeline = {"schedule": schedule} if schedule else None
    config = write_config(tmp_path, write_corpus(tmp_path), pipeline=pipeline)
    defs = build_definitions(config)
    nightly = defs.get_schedule_def("nightly_refresh")
    assert nightly.cron_schedule == cron
    assert nightly.execution_timezone == timezone
    assert nightly.job_name == "ingest_source"
    when = datetime(2026, 3, 30, 3, 30, tzinfo=ZoneInfo(timezone))
    with dg.DagsterInstance.ephemeral() as instance:
        data = nightly.evaluate_tick(
            dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=when,
                repository_def=defs.get_repository_def(),
            )
        )
    requests = data.run_requests or []
    assert sorted(str(r.partition_key) for r in requests) == sorted(SOURCES)  # every source
    assert {r.run_key for r in requests} == {f"nightly:2026-03-30:{s}" for s in SOURCES}


def test_nightly_schedule_can_be_turned_off(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, write_corpus(tmp_path), pipeline={"schedule": {"enabled": False}}
    )
    assert not list(build_definitions(config).schedules or [])
