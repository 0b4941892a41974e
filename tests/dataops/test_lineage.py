"""Lineage of a served chunk: document → source version → index version → model → chunker."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from typer.testing import CliRunner

from assets.runs import materialize_pipeline
from rag_pipelines.cli import app
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.fingerprint import weights_sha256
from rag_pipelines.embedding.resolve import bundled_model_path
from rag_pipelines.lineage import ChunkNotFound, Lineage, chunk_lineage
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
from rag_pipelines.pipeline.checks.blocking import BLOCKING_CHECKS
from rag_pipelines.retrieval.models import Hit
from rag_pipelines.service.app import create_app
from tests.dataops.corpus import NIMBUS, TUNDRA, ZEPHYR, Product, write_config, write_corpus
from tests.dataops.corpus import write_product as write
from tests.dataops.index_state import search_live
from tests.service.server import serving

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHUNKING = {
    "chunk_size": 160,
    "chunk_overlap": 24,
    "context_header": True,
    "min_chunk_tokens": 20,
}
BETA_CHUNKING = {
    "chunk_size": 96,
    "chunk_overlap": 12,
    "context_header": False,
    "min_chunk_tokens": 20,
}
WARRANTY = "How long does the Zephyr Kettle warranty last?"
ZEPHYR_EDITED = replace(ZEPHYR, text=ZEPHYR.text.replace("nine years", "twelve years"))
TUNDRA_EDITED = replace(TUNDRA, text=TUNDRA.text.replace("wool", "alpaca wool"))


@dataclass
class Built:
    """v1 → v2 (Zephyr's warranty edited) → v3 (Tundra edited); retention 2 drops v1."""

    ctx: PipelineContext
    sources_path: Path
    roots: dict[str, Path]
    versions: list[str]
    v1_warranty: Hit  # served by v1, which is no longer kept
    v2_tundra: Hit  # served by v2, edited away in v3 (v2 is still kept)
    live_warranty: Hit
    live_umbrella: Hit
    runs: list[str]  # the Dagster run that built and published each version


def _hit(ctx: PipelineContext, query: str, product: Product, section: str | None = None) -> Hit:
    for hit in search_live(ctx, query, "hybrid").hits:
        if hit.provenance.document_id == product.path and (
            section is None or hit.provenance.section[-1:] == [section]
        ):
            return hit
    raise AssertionError(f"no hit from {product.path} for {query!r}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Three published versions, each file with a known modification time."""
    tmp = tmp_path_factory.mktemp("lineage")
    roots = write_corpus(tmp, age_s=7200)
    config = write_config(
        tmp,
        roots,
        index={"retention": 2},
        sections={"defaults": {"chunking": DEFAULT_CHUNKING}},
        per_source={"beta": {"chunking": BETA_CHUNKING}},
    )
    ctx = PipelineContext(config)
    with dg.DagsterInstance.ephemeral() as instance:
        runs = [materialize_pipeline(config, instance)[-1].run_id]
        v1_warranty = _hit(ctx, WARRANTY, ZEPHYR, "Warranty")
        write(roots, ZEPHYR_EDITED, age_s=3600)
        runs.append(materialize_pipeline(config, instance)[-1].run_id)
        v2_tundra = _hit(ctx, TUNDRA.query, TUNDRA)
        write(roots, TUNDRA_EDITED, age_s=1800)
        runs.append(materialize_pipeline(config, instance)[-1].run_id)
    return Built(
        ctx=ctx,
        sources_path=tmp / "sources.yaml",
        roots=roots,
        versions=[
            v1_warranty.provenance.index_version,
            v2_tundra.provenance.index_version,
            str(json.loads(ctx.workspace.live_pointer.read_text())["version"]),
        ],
        v1_warranty=v1_warranty,
        v2_tundra=v2_tundra,
        live_warranty=_hit(ctx, WARRANTY, ZEPHYR, "Warranty"),
        live_umbrella=_hit(ctx, NIMBUS.query, NIMBUS),
        runs=runs,
    )


def _file_facts(path: Path) -> tuple[str, str, str]:
    """(file URI, sha256 of the bytes, modification time) read straight from the file."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")
    return path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest(), modified


def test_a_search_hit_traces_back_to_file_source_index_model_and_chunker(built: Built) -> None:
    hit = built.live_warranty
    lineage = chunk_lineage(built.ctx, hit.chunk_id)
    v3 = built.versions[2]
    manifest = built.ctx.registry.manifest(v3)
    (chunk,) = [c for c in snapshot_chunks(built.ctx, v3) if c.id == hit.chunk_id]

    assert lineage.chunk["id"] == hit.chunk_id
    assert lineage.chunk["text_hash"] == chunk.text_hash
    assert lineage.chunk["section"] == ["Zephyr Kettle", "Warranty"]

    uri, content_hash, modified = _file_facts(built.roots["alpha"] / ZEPHYR.path)
    assert lineage.document["key"] == f"alpha/{ZEPHYR.path}"
    assert lineage.document["uri"] == uri == hit.provenance.document_uri
    assert lineage.document["content_hash"] == content_hash
    assert lineage.document["modified_at"] == modified

    source = lineage.source_version
    assert source["source"] == "alpha"
    assert source["source_content_hash"] == manifest.sources["alpha"].content_hash
    assert source["documents_in_source"] == 3
    assert source["document_state_now"] == "active"
    assert source["document_first_seen_at"] < source["document_changed_at"]  # the edit

    index = lineage.index_version
    pointer = built.ctx.registry.live()
    assert pointer is not None
    assert index["version"] == v3 == hit.provenance.index_version
    assert index["live"] is True
    assert index["published_at"] == pointer.published_at
    assert index["content_hash"] == manifest.content_hash
    assert index["checks"] == {name: True for name in BLOCKING_CHECKS}

    model = lineage.model
    assert model["key"] == hit.provenance.model_fingerprint == manifest.model.key
    assert model["name"] == "all-MiniLM-L6-v2"
    assert model["weights_sha256"] == weights_sha256(bundled_model_path())
    assert (model["dimension"], model["normalize"]) == (384, True)


@pytest.mark.parametrize(
    ("which", "chunking"), [("alpha", DEFAULT_CHUNKING), ("beta", BETA_CHUNKING)]
)
def test_lineage_names_the_chunker_settings_of_the_chunks_source(
    built: Built, which: str, chunking: dict[str, Any]
) -> None:
    hit = built.live_warranty if which == "alpha" else built.live_umbrella
    lineage = chunk_lineage(built.ctx, hit.chunk_id)
    assert lineage.chunk["chunking"] == chunking
    size, overlap, header = (chunking[k] for k in ("chunk_size", "chunk_overlap", "context_header"))
    assert lineage.chunk["chunker"].startswith(
        f"sentence/size={size}/overlap={overlap}/header={int(header)}/"
    )


def test_an_unchanged_chunk_moves_to_the_new_source_version(built: Built) -> None:
    """The warranty chunk is in v2 and v3; Tundra's edit between them changed its source."""
    v2, v3 = built.versions[1:]
    before = chunk_lineage(built.ctx, built.live_warranty.chunk_id, v2)
    after = chunk_lineage(built.ctx, built.live_warranty.chunk_id, v3)
    assert before.document == after.document
    assert before.index_version["live"] is False
    assert (
        before.source_version["source_content_hash"]
        != (after.source_version["source_content_hash"])
    )


def test_an_edited_away_chunk_keeps_its_lineage_in_the_version_that_served_it(
    built: Built,
) -> None:
    hit = built.v2_tundra
    v2 = built.versions[1]
    with pytest.raises(ChunkNotFound):
        chunk_lineage(built.ctx, hit.chunk_id)  # not in the live version
    lineage = chunk_lineage(built.ctx, hit.chunk_id, v2)
    assert lineage.index_version["version"] == v2
    assert lineage.index_version["live"] is False
    now = built.roots["alpha"] / TUNDRA.path
    assert lineage.document["content_hash"] == hit.provenance.document_hash
    assert lineage.document["content_hash"] != _file_facts(now)[1]
    assert lineage.document["content_hash"] == hashlib.sha256(TUNDRA.text.encode()).hexdigest()
    assert lineage.document["modified_at"] < _file_facts(now)[2]


def _cli(built: Built, *args: str) -> Any:
    result = CliRunner().invoke(app, ["-c", str(built.sources_path), "lineage", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_cli_prints_the_same_lineage(built: Built) -> None:
    hit = built.live_warranty
    assert _cli(built, hit.chunk_id) == chunk_lineage(built.ctx, hit.chunk_id).model_dump(
        mode="json"
    )
    old = built.v2_tundra
    printed = _cli(built, old.chunk_id, "--version", built.versions[1])
    assert Lineage.model_validate(printed).index_version["version"] == built.versions[1]


def test_lineage_names_the_dagster_run_that_built_and_published_each_version(
    built: Built,
) -> None:
    """Regression: lineage had no Dagster run id; the CLI and the API now show both runs."""
    assert len(set(built.runs)) == 3
    live = _cli(built, built.live_warranty.chunk_id)["index_version"]
    assert (live["built_by_run"], live["published_by_run"]) == (built.runs[2], built.runs[2])
    older = _cli(built, built.v2_tundra.chunk_id, "--version", built.versions[1])["index_version"]
    assert (older["built_by_run"], older["published_by_run"]) == (built.runs[1], built.runs[1])


def test_the_command_reports_a_chunk_not_in_the_live_version_in_one_line(built: Built) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            *("-m", "rag_pipelines.cli", "-c", str(built.sources_path)),
            *("lineage", built.v2_tundra.chunk_id),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        f"error: no chunk {built.v2_tundra.chunk_id!r} in index version {built.versions[2]}"
    )


@pytest.fixture(scope="module")
def http(built: Built) -> Iterator[httpx.Client]:
    """The real service over the pipeline, and a client for it."""
    with serving(create_app(built.ctx)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_every_search_hit_links_to_its_lineage(built: Built, http: httpx.Client) -> None:
    body = {"query": WARRANTY, "top_k": 5, "mode": "hybrid"}
    response = http.post("/v1/search", json=body)
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits
    for hit in hits:
        followed = http.get(hit["provenance"]["lineage_url"])
        assert followed.status_code == 200, followed.text
        lineage = followed.json()
        assert lineage == chunk_lineage(built.ctx, hit["chunk_id"]).model_dump(mode="json")
        assert lineage["index_version"]["version"] == response.json()["index_version"]


def test_a_link_into_a_kept_older_version_still_resolves(built: Built, http: httpx.Client) -> None:
    followed = http.get(built.v2_tundra.provenance.lineage_url)
    assert followed.status_code == 200, followed.text
    assert followed.json()["index_version"]["version"] == built.versions[1]


def test_the_api_names_the_dagster_run_that_built_the_version(
    built: Built, http: httpx.Client
) -> None:
    followed = http.get(built.v2_tundra.provenance.lineage_url)
    assert followed.status_code == 200, followed.text
    index = followed.json()["index_version"]
    assert (index["built_by_run"], index["published_by_run"]) == (built.runs[1], built.runs[1])


def test_a_link_into_a_collected_version_is_not_found(built: Built, http: httpx.Client) -> None:
    """Regression: lineage for a version retention had removed answered 503 "no index" (retry
    later) instead of 404."""
    assert built.versions[0] not in built.ctx.registry.versions()
    followed = http.get(built.v1_warranty.provenance.lineage_url)
    assert followed.status_code == 404, followed.text
    assert followed.json()["error"] == "not_found"
    assert built.versions[0] in followed.json()["message"]
