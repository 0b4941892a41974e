"""Golden-set judgements of documents deleted at their source: set aside for the gate.

A judgement is stale when its document is not in the version being checked and its source's
ingest ledger keeps it as a deleted tombstone (the source no longer has it). Otherwise a
deletion of a judged document could never be published: the candidate would always score
worse than the live version that still serves it. A judged document that no source ever had is
not stale: that is a mistake in the golden set, and it keeps counting against the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.golden import GoldenSet, StaleJudgement
from rag_pipelines.evaluation.quality import golden_sets
from rag_pipelines.pipeline.build.documents import load_ledger
from rag_pipelines.pipeline.build.snapshot import snapshot_documents
from rag_pipelines.pipeline.sync import pull_ledgers

GoldenSets = dict[str, tuple[GoldenSet, str | None]]


@dataclass(frozen=True)
class Pruned:
    """The golden sets a comparison uses, and the judgements set aside for it."""

    sets: GoldenSets
    stale: list[StaleJudgement]

    def metadata(self) -> dict[str, object]:
        """What the check shows: how many went stale, and which."""
        return {"stale_judgements": len(self.stale), "stale": [s.label() for s in self.stale]}


def prune_deleted(ctx: PipelineContext, sets: GoldenSets, version: str) -> Pruned:
    """`sets` without the judgements of documents deleted at the source that `version` lacks."""
    held = held_documents(ctx, version)
    kept, stale = set_aside_deleted(sets, deleted_documents(ctx, held), held)
    return Pruned(kept, stale)


def stale_judgements(ctx: PipelineContext, version: str) -> list[StaleJudgement]:
    """The configured golden sets' judgements (all of each set) that went stale for `version`:
    what `status` lists for the published version."""
    settings = ctx.config.evaluation
    feedback = ctx.workspace.feedback_set_dir if settings.use_feedback else None
    return prune_deleted(ctx, golden_sets(settings.sets, "all", feedback), version).stale


def held_documents(ctx: PipelineContext, version: str) -> dict[str, set[str]]:
    """source → ids of the documents a version holds."""
    held: dict[str, set[str]] = {}
    for doc in snapshot_documents(ctx, version):
        held.setdefault(doc.source, set()).add(doc.id)
    return held


def deleted_documents(ctx: PipelineContext, held: dict[str, set[str]]) -> dict[str, set[str]]:
    """source → ids of documents its ledger keeps as deleted and that are not in `held`."""
    pull_ledgers(ctx)  # with shared state the ingest ran elsewhere
    gone: dict[str, set[str]] = {}
    for source in ctx.config.sources:
        tombstones = {e.id for e in load_ledger(ctx, source.name) if e.state == "deleted"}
        gone[source.name] = tombstones - held.get(source.name, set())
    return gone


def set_aside_deleted(
    sets: GoldenSets, deleted: dict[str, set[str]], held: dict[str, set[str]]
) -> tuple[GoldenSets, list[StaleJudgement]]:
    """The sets without judgements of deleted documents (a set with no query left is dropped),
    and the judgements set aside. A set with a `source` looks only at that source's deletions;
    one without, at every source's (an id another source still holds is not stale)."""
    kept: GoldenSets = {}
    stale: list[StaleJudgement] = []
    still_held: set[str] = set().union(*held.values())
    everywhere: set[str] = set().union(*deleted.values()) - still_held
    for name, (golden, source) in sets.items():
        gone = deleted.get(source, set()) if source is not None else everywhere
        pruned, aside = golden.without(gone)
        stale += aside
        if pruned.queries:
            kept[name] = (pruned, source)
    return kept, stale


def describe(stale: list[StaleJudgement], limit: int = 10) -> str:
    """One sentence naming the stale judgements and what to do about them."""
    names = ", ".join(s.label() for s in stale[:limit])
    more = f" and {len(stale) - limit} more" if len(stale) > limit else ""
    return (
        f"{len(stale)} golden judgement(s) set aside, their documents deleted at the source: "
        f"{names}{more}; remove them from the golden set's qrels"
    )
