"""Freeze the corpus only while no run is half-way through writing a source.

An ingest run writes a source's documents, then chunks, then embeddings, each stage under the
source's file lock. A snapshot taken between its chunks and its embeddings would mix them, so the
build's snapshot holds every source lock and then asks the instance whether an ingest run is
still running: if one is (it may sit between two stages), it lets go, waits and tries again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import dagster as dg

from assets.run_queries import RUNNING, ingest_runs
from rag_pipelines.context import PipelineContext
from rag_pipelines.locks import PipelineBusy, exclusive

# How long a stage waits for a source lock the snapshot holds (seconds, not minutes), and how
# long a build waits for running ingests before it gives up.
SOURCE_LOCK_WAIT_S = 120.0
INGEST_WAIT_S = 6 * 3600.0


@contextmanager
def sources_settled(
    context: dg.AssetExecutionContext,
    ctx: PipelineContext,
    timeout_s: float = INGEST_WAIT_S,
    poll_s: float = 2.0,
) -> Iterator[None]:
    """Hold every source's (every shard's) lock, with no ingest run of this instance running."""
    deadline = time.monotonic() + timeout_s
    while True:
        with ExitStack() as held:
            for shard in (s for source in ctx.config.sources for s in ctx.shards(source.name)):
                held.enter_context(
                    exclusive(
                        ctx.workspace.source_lock(shard.source, shard.folder),
                        f"source {shard.key!r}",
                        timeout_s=SOURCE_LOCK_WAIT_S,
                    )
                )
            busy = ingest_runs(context.instance, RUNNING, exclude=context.run.run_id)
            if not busy:
                yield
                return
        if time.monotonic() > deadline:
            raise PipelineBusy(f"ingest runs {busy} still running after {timeout_s:.0f} s")
        context.log.info(f"waiting for ingest runs to finish before freezing the corpus: {busy}")
        time.sleep(poll_s)
