"""The experiments plot: a real PNG of metric per variant, and its data: URI."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from rag_pipelines.evaluation.experiments import VariantResult
from rag_pipelines.evaluation.plot import plot_comparison, png_data_uri


def result(name: str, dense: float, hybrid: float) -> VariantResult:
    """nDCG@10 of two modes on one set."""
    scores = {"gold": {"dense": {"ndcg@10": dense}, "hybrid": {"ndcg@10": hybrid}}}
    return VariantResult(name, "none", "v", 1, scores)


def test_plot_is_a_png_that_shows_the_values(tmp_path: Path) -> None:
    """A decodable PNG; different scores draw a different picture."""
    results = [result("live", 0.5, 0.6), result("small", 0.2, 0.9)]
    first = plot_comparison(results, ["dense", "hybrid"], "ndcg@10", tmp_path / "a" / "p.png")
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(first)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400
    other = [result("live", 0.5, 0.6), result("small", 0.9, 0.2)]
    second = plot_comparison(other, ["dense", "hybrid"], "ndcg@10", tmp_path / "b.png")
    assert not np.array_equal(imread(second), pixels)


def test_one_panel_per_golden_set(tmp_path: Path) -> None:
    """Two sets make a taller figure than one."""
    one = imread(plot_comparison([result("a", 0.5, 0.5)], ["dense"], "ndcg@10", tmp_path / "1.png"))
    both = VariantResult("a", "none", "v", 1, {"x": {"dense": {"ndcg@10": 0.5}}, "y": {}})
    two = imread(plot_comparison([both], ["dense"], "ndcg@10", tmp_path / "2.png"))
    assert two.shape[0] > one.shape[0]


def test_data_uri_round_trips(tmp_path: Path) -> None:
    """The Markdown-embeddable URI decodes to the file's bytes."""
    path = plot_comparison([result("a", 0.5, 0.5)], ["dense"], "ndcg@10", tmp_path / "p.png")
    uri = png_data_uri(path)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == path.read_bytes()
