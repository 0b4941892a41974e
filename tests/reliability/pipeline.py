"""A built pipeline to break: copy it, run its stages in process or in a killable subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from assets.definitions import CORPUS_WIDE, PER_SOURCE, build_parts
from assets.runs import materialize_pipeline
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.faults import FAULT_ENV, PAUSE_ENV
from rag_pipelines.index.stores import collection_name
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks
from rag_pipelines.retrieval.live import LiveIndex
from tests.reliability.corpus import write_config

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Pipeline:
    """One pipeline's files (corpus, sources.yaml, data dir) in a folder of its own."""

    tmp: Path
    config: SourcesFile

    @property
    def ctx(self) -> PipelineContext:
        """Its context."""
        return PipelineContext(self.config)

    @property
    def sources_path(self) -> Path:
        """Its sources.yaml."""
        return self.tmp / "sources.yaml"

    def write(self, rel: str, text: str) -> None:
        """Add or replace a file of the corpus."""
        path = self.tmp / "corpus" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def materialize(self) -> None:
        """Every source's stages, then build, check and publish, in this process."""
        materialize_pipeline(self.config, dg.DagsterInstance.ephemeral())

    def run(self, target: str, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
        """One materialization in this process: a source's stages, or "corpus"."""
        parts = build_parts(self.config)
        corpus = target == "corpus"
        return dg.materialize(
            [*parts.assets, *parts.checks],
            selection=dg.AssetSelection.assets(*CORPUS_WIDE) if corpus else PER_SOURCE,
            partition_key=None if corpus else target,
            instance=dg.DagsterInstance.ephemeral(),
            resources=parts.resources,
            raise_on_error=raise_on_error,
        )


def copy_pipeline(built: Path, tmp: Path, index: dict[str, Any] | None = None) -> Pipeline:
    """A copy of a built pipeline (its published index included) under `tmp`."""
    for part in ("corpus", "data"):
        shutil.copytree(built / part, tmp / part, symlinks=True)
    return Pipeline(tmp, write_config(tmp, index))


@dataclass
class Paused:
    """A materialization in a subprocess, stopped at a fault point (see rag_pipelines.faults)."""

    proc: subprocess.Popen[bytes]
    marker: Path
    log: Path
    group: bool = False  # in a session of its own: kill its whole process group

    def kill(self) -> None:
        """SIGKILL it (its process group, if it has one of its own) where it stands."""
        if self.group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=30) == -signal.SIGKILL

    def resume(self, timeout_s: float = 120) -> int:
        """Let it go on; its exit code."""
        self.marker.unlink()
        return self.proc.wait(timeout=timeout_s)

    def tail(self) -> str:
        """The end of its output."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def start_paused(
    pipeline: Pipeline,
    target: str,
    point: str,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
    group: bool = False,
    wait_s: float = 180,
) -> Paused:
    """Run `target` ("corpus" or a source) in a subprocess until it pauses at `point`.

    `command` and `env` replace the default driver (tests.reliability.driver) and environment;
    with `group` it runs in a session (process group) of its own, which `kill` kills whole;
    `wait_s` is how long it may take to get there.
    """
    marker = pipeline.tmp / f"paused-{point}"
    log = pipeline.tmp / f"run-{point}.log"
    env = {**(env or os.environ), FAULT_ENV: point, PAUSE_ENV: str(marker)}
    argv = command or [
        sys.executable,
        "-m",
        "tests.reliability.driver",
        str(pipeline.sources_path),
        target,
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
    paused = Paused(proc, marker, log, group)
    deadline = time.monotonic() + wait_s
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                paused.kill()
            raise AssertionError(
                f"the run never reached {point} (rc {proc.returncode}):\n" + paused.tail()
            )
        time.sleep(0.1)
    return paused


def live_search(ctx: PipelineContext, query: str) -> tuple[str, list[str]]:
    """(version served, document ids of the top hits) through LiveIndex, as the service does."""
    live = LiveIndex(ctx)
    try:
        with live.acquire() as index:
            response = index.search(query, 3, "hybrid")
    finally:
        live.stop()
    return response.index_version, [hit.provenance.document_id for hit in response.hits]


def assert_intact(ctx: PipelineContext, version: str) -> None:
    """The version's dense, BM25 and graph indexes all hold exactly its snapshot's chunks."""
    manifest = ctx.registry.manifest(version)
    chunks = len(snapshot_chunks(ctx, version))
    assert chunks > 0
    assert (manifest.vectors, manifest.bm25_points, manifest.graph_chunks) == (chunks,) * 3
    for name in (manifest.collection, manifest.bm25_collection):
        assert (ctx.workspace.edge_dir / name / "edge_config.json").exists(), name


def shard_versions(ctx: PipelineContext) -> set[str]:
    """Versions that have any Qdrant Edge shard folder on disk."""
    prefix = collection_name(ctx.config.index.qdrant, ctx.config.pipeline.name, "")
    edge = ctx.workspace.edge_dir
    names = [p.name for p in edge.iterdir()] if edge.exists() else []
    return {n.removeprefix(prefix).removesuffix("_bm25") for n in names if n.startswith(prefix)}
