"""Stage: collect service feedback into a golden set for the next build's checks."""

from __future__ import annotations

from dataclasses import dataclass

from rag_pipelines.context import PipelineContext
from rag_pipelines.feedback.golden import FeedbackSet, write_feedback_set
from rag_pipelines.feedback.store import FeedbackRecord, FeedbackStore


@dataclass
class FeedbackReport:
    """Counts and the most recent judgements."""

    golden: FeedbackSet
    useful: int
    not_useful: int
    recent: list[FeedbackRecord]


def collect_feedback(ctx: PipelineContext, recent: int = 20) -> FeedbackReport:
    """Rewrite the feedback golden set from every judgement stored so far."""
    store = FeedbackStore(ctx.workspace.feedback_db)
    try:
        records = store.all()
    finally:
        store.close()
    golden = write_feedback_set(records, ctx.workspace.feedback_set_dir)
    useful = sum(1 for r in records if r.useful)
    return FeedbackReport(golden, useful, len(records) - useful, records[-recent:][::-1])
