"""The reranker's cross-encoder on ONNX Runtime: exported once, verified against torch."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag_pipelines.embedding.fingerprint import weights_sha256
from rag_pipelines.embedding.onnx_encoder import cpu_session
from rag_pipelines.embedding.onnx_export import artifact_dir, cached, export_transformer
from rag_pipelines.errors import ModelLoadError

MAX_SCORE_DIFF = 1e-4  # largest |ONNX - torch| score on VERIFY_PAIRS that still counts as equal
VERIFY_PAIRS = (
    ("does aspirin prevent heart attacks", "Aspirin reduces the risk of myocardial infarction."),
    (
        "kinase regulation",
        "A longer passage about protein folding, kinases and the regulation "
        "of gene expression in mammalian cells (p < 0.05), with β-catenin.",
    ),
    ("short", "Short."),
)


class OnnxCrossEncoder:
    """CrossEncoder.predict's scores, computed by an ONNX export of its transformer."""

    def __init__(self, encoder: Any, path: Path, threads: int = 0) -> None:
        self.session = cpu_session(path, threads)
        self.path = path
        self.tokenizer = encoder.tokenizer
        self.max_length = int(encoder.max_seq_length)
        self.activation = encoder.activation_fn
        self._inputs = {i.name for i in self.session.get_inputs()}

    def predict(
        self, pairs: Sequence[tuple[str, str]], batch_size: int, show_progress_bar: bool = False
    ) -> np.ndarray:
        """One score per (query, passage) pair, as CrossEncoder.predict gives it."""
        import torch

        logits = []
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start : start + batch_size]
            encoded = self.tokenizer(
                [q for q, _ in batch],
                [p for _, p in batch],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            feed = {
                k: np.asarray(v, dtype=np.int64) for k, v in encoded.items() if k in self._inputs
            }
            if "token_type_ids" in self._inputs and "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            logits.append(self.session.run(["logits"], feed)[0])
        if not logits:
            return np.zeros(0, dtype=np.float32)
        with torch.no_grad():
            scores = self.activation(torch.from_numpy(np.concatenate(logits))).numpy()
        return np.asarray(scores[:, 0] if scores.shape[1] == 1 else scores, dtype=np.float32)


def onnx_cross_encoder(encoder: Any, model_path: str, cache_dir: Path) -> OnnxCrossEncoder:
    """The verified ONNX twin of a loaded CrossEncoder, exported on first use.

    Cached under `cache_dir` by the weights' sha256; refused (ModelLoadError) where its scores
    on VERIFY_PAIRS differ from torch's by more than MAX_SCORE_DIFF.
    """
    modules = list(encoder)
    if len(modules) != 1 or getattr(encoder, "model", None) is None:
        raise ModelLoadError(
            f"reranker {model_path} is not a single-transformer cross-encoder "
            f"({[type(m).__name__ for m in modules]}); set embedding.backend: torch"
        )
    key = f"cross-encoder:{weights_sha256(Path(model_path))}"
    sample = (["a query", "another query"], ["a passage", "a second, somewhat longer passage"])
    path = cached(
        artifact_dir(cache_dir, key) / "model.onnx",
        lambda tmp: export_transformer(encoder.model, encoder.tokenizer, tmp, "logits", sample),
    )
    onnx = OnnxCrossEncoder(encoder, path)
    reference = np.asarray(
        encoder.predict(list(VERIFY_PAIRS), batch_size=len(VERIFY_PAIRS), show_progress_bar=False)
    )
    worst = float(np.abs(onnx.predict(VERIFY_PAIRS, len(VERIFY_PAIRS)) - reference).max())
    if worst > MAX_SCORE_DIFF:
        raise ModelLoadError(
            f"the ONNX export of reranker {model_path} at {path} differs from torch (score "
            f"difference {worst:.2g} > {MAX_SCORE_DIFF}); delete that file to re-export, "
            "or set embedding.backend: torch"
        )
    return onnx
