"""What changed since the last run: sources (by listing signature) and the embedding model."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.identity import configured_identity
from rag_pipelines.ingest.signature import shard_signatures, signs_listings, source_available
from rag_pipelines.pipeline.build.documents import ingested_signature, load_documents


@dataclass(frozen=True)
class SourceChange:
    """A source (or one shard of it) whose files differ from what was last ingested."""

    source: str
    partition: str  # the partition key to run: the source name, or `<source>~<k>`
    signature: str


def changed_sources(ctx: PipelineContext, requested: dict[str, str]) -> list[SourceChange]:
    """Partitions whose current listing differs from the last ingest and was not yet requested.

    `requested` is the sensor's cursor (partition key → signature already asked for), so a
    change produces one run, not one per tick while that run is in progress. A sharded source
    is signed shard by shard, so an edit re-runs only the shard its document falls in.
    """
    changes: list[SourceChange] = []
    for source in ctx.config.sources:
        # With shared state, the last ingest of a shard may have run on another machine.
        ws = ctx.workspace
        signed = signs_listings(source)
        for shard in ctx.shards(source.name):
            paths = [ws.signature_path(shard.source, shard.folder)]
            if signed:  # its check lists conditionally against the stored documents
                paths.append(ws.documents_path(shard.source, shard.folder))
            for path in paths:
                ctx.state.store.download(path.relative_to(ws.root).as_posix())
        # A source that cannot be reached (an unmounted root, a server down) would list as
        # empty: wait until it is back.
        try:
            if not source_available(source):
                continue
            previous = {d.id: d for d in load_documents(ctx, source.name)} if signed else None
            current = shard_signatures(source, previous)
        except OSError:
            continue  # gone between the two calls
        for shard, signature in zip(ctx.shards(source.name), current, strict=True):
            if (
                signature != ingested_signature(ctx, shard)
                and requested.get(shard.key) != signature
            ):
                changes.append(SourceChange(source.name, shard.key, signature))
    return changes


@dataclass(frozen=True)
class ModelChange:
    """The configured model differs from the one the live version was built with."""

    live: str
    configured: str
    live_version: str
    normalize: bool

    @property
    def key(self) -> str:
        """This change: the version it replaces and the model wanted (a run key, a cursor).

        The live version is part of it, so switching back to a model used before is a new
        change, not a duplicate run key that Dagster would drop.
        """
        return f"{self.live_version}:{self.configured}/{'norm' if self.normalize else 'raw'}"


def model_change(ctx: PipelineContext) -> ModelChange | None:
    """A ModelChange if the configured embedding model is not the live version's model."""
    pointer = ctx.registry.live()
    if pointer is None:
        return None
    live = ctx.registry.manifest(pointer.version).model
    configured = configured_identity(ctx.config.embedding)
    if configured == live.identity and ctx.config.embedding.normalize == live.normalize:
        return None
    return ModelChange(
        live=live.identity,
        configured=configured,
        live_version=pointer.version,
        normalize=ctx.config.embedding.normalize,
    )
