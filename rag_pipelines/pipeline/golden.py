"""`rag-pipelines golden`: judged questions (CSV, feedback) → a BEIR set over the live index."""

from __future__ import annotations

from pathlib import Path

from rag_pipelines.context import PipelineContext
from rag_pipelines.feedback import golden_build as gb
from rag_pipelines.feedback.store import FeedbackStore
from rag_pipelines.pipeline.build.snapshot import CHUNKS, DOCUMENTS
from rag_pipelines.retrieval.lookup import SnapshotLookup


def build_golden_set(
    ctx: PipelineContext, out: Path, csv_path: Path | None, use_feedback: bool
) -> tuple[gb.GoldenSetFiles, str]:
    """Write the set to `out`; also return the published version the ids were checked against.

    Raises GoldenInputError listing every unknown id or bad row, or when nothing is judged.
    """
    manifest = ctx.registry.live_manifest()
    folder = ctx.registry.build_path(manifest.version)
    keys = SnapshotLookup(folder / DOCUMENTS, folder / CHUNKS).document_keys()
    raw, problems = gb.read_csv(csv_path) if csv_path else ({}, [])
    judged, unknown = gb.resolve(raw, keys)
    problems += unknown
    if use_feedback and ctx.workspace.feedback_db.is_file():
        store = FeedbackStore(ctx.workspace.feedback_db)
        try:
            judged = gb.merge(judged, gb.from_feedback(store.all()))
        finally:
            store.close()
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise gb.GoldenInputError(f"{len(problems)} problem(s) in the judgements:\n{lines}")
    if not judged:
        raise gb.GoldenInputError(
            "no judged questions: pass --csv FILE, or collect feedback (POST /v1/feedback)"
        )
    return gb.write_golden(judged, out), manifest.version
