"""The experiments report on disk: Markdown tables with the plot, and the PNG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rag_pipelines.context import PipelineContext
from rag_pipelines.evaluation.experiments import comparison_table, gate_mode_table
from rag_pipelines.evaluation.plot import plot_comparison, png_data_uri
from rag_pipelines.pipeline.tuning.experiments import ExperimentReport, experiments_dir
from rag_pipelines.storage import atomic_write_text


@dataclass(frozen=True)
class ReportFiles:
    """The comparison as Markdown (plot embedded) and as a PNG, both on disk."""

    markdown: str
    markdown_path: Path
    png_path: Path


def write_report(ctx: PipelineContext, report: ExperimentReport) -> ReportFiles:
    """experiments/reports/<time>.{png,md}: the gate metric per variant and mode, and tables."""
    gate = ctx.config.evaluation.gate
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S-%f")
    stem = experiments_dir(ctx) / "reports" / stamp
    png = plot_comparison(report.rows, list(report.modes), gate.metric, stem.with_suffix(".png"))
    queries = ", ".join(f"{name}: {n}" for name, n in report.queries.items())
    body = (
        f"{gate.metric} per retrieval mode ({report.part} queries — {queries}); "
        f"Δ is the {gate.mode} mode against the first row.\n\n"
        + comparison_table(report.rows, list(report.modes), gate.metric, gate.mode)
        + f"\n\nEvery metric of the {gate.mode} mode:\n\n"
        + gate_mode_table(report.rows, gate.mode)
    )
    markdown = f"{body}\n\n![{gate.metric} by variant]({png_data_uri(png)})\n\nPlot: `{png}`\n"
    md_path = stem.with_suffix(".md")
    atomic_write_text(md_path, f"{body}\n\n![{gate.metric} by variant]({png.name})\n")
    return ReportFiles(markdown, md_path, png)
