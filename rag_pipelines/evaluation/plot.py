"""A PNG of one metric per variant and retrieval mode (matplotlib, no display needed)."""

from __future__ import annotations

import base64
from pathlib import Path

from rag_pipelines.evaluation.experiments import METRIC_NAMES, VariantResult


def plot_comparison(
    results: list[VariantResult], modes: list[str], metric: str, path: Path
) -> Path:
    """Grouped bars: one group per variant, one bar per mode, one panel per golden set."""
    # Figure + the Agg canvas directly: no pyplot global state, safe in a server process.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sets = list(dict.fromkeys(s for r in results for s in r.scores)) or ["(no golden set)"]
    width = max(5.0, 1.2 * len(results) + 2.0)
    figure = Figure(figsize=(width, 3.2 * len(sets)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    label = METRIC_NAMES.get(metric, metric)
    bar = 0.8 / max(1, len(modes))
    for row, name in enumerate(sets, start=1):
        axes = figure.add_subplot(len(sets), 1, row)
        for i, mode in enumerate(modes):
            values = [r.scores.get(name, {}).get(mode, {}).get(metric, 0.0) for r in results]
            positions = [x + (i - (len(modes) - 1) / 2) * bar for x in range(len(results))]
            bars = axes.bar(positions, values, bar, label=mode)
            axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        axes.set_xticks(range(len(results)), [r.name for r in results])
        axes.set_ylim(0.0, 1.2)  # headroom for the value labels and the legend
        axes.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
        axes.set_ylabel(label)
        axes.set_title(f"{label} by variant — {name}")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper right", fontsize="small", ncols=len(modes))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def png_data_uri(path: Path) -> str:
    """The PNG as a data: URI, for embedding in Markdown."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
