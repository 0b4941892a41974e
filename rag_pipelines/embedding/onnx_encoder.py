"""Encode with ONNX Runtime: length-sorted batches, tokenizing the next batch during inference."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rag_pipelines.errors import ConfigError, ModelLoadError

Batch = dict[str, np.ndarray]
MIN_COSINE = 0.9999
SPIN_ENV = "RAG_ONNX_SPIN"  # run (default) / 1 / 0: see SPIN_MODES
VERIFY_TEXTS = (
    "Aspirin reduces the risk of myocardial infarction.",
    "  Leading and trailing spaces are stripped the way sentence-transformers strips them.  ",
    "Short.",
    "A longer passage about protein folding, kinases and the regulation of gene expression "
    "in mammalian cells, with numbers like 3.5 mg/kg and symbols such as β-catenin (p < 0.05).",
)


class OnnxEncoder:
    """Mean-pooled, optionally normalized sentence vectors from an exported transformer."""

    def __init__(
        self,
        path: Path,
        tokenizer: Any,
        max_seq_length: int,
        batch_size: int,
        normalize: bool,
        threads: int = 0,
    ) -> None:
        self.session = cpu_session(path, threads)
        self.path = path
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.normalize = normalize
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="onnx-tokenize")
        self._single = single_text_tokenizer(tokenizer, max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 vectors in the order of `texts`.

        Texts are sorted by length so a batch pads to similar lengths; while ONNX Runtime runs
        one batch (it releases the GIL) the next one is tokenized on a helper thread.
        """
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        out: np.ndarray | None = None
        for rows, vectors in zip(chunks, self._run(texts, chunks), strict=True):
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def _run(self, texts: list[str], chunks: list[list[int]]) -> Iterator[np.ndarray]:
        if len(texts) == 1 and self._single is not None:  # one query: the lean path
            yield self._infer_one(texts[0])
            return
        if len(chunks) == 1:  # one batch: no thread hand-off
            yield self._infer(self._tokenize([texts[i] for i in chunks[0]]))
            return
        pending: Future[Batch] = self._pool.submit(self._tokenize, [texts[i] for i in chunks[0]])
        for n in range(len(chunks)):
            batch = pending.result()
            if n + 1 < len(chunks):
                pending = self._pool.submit(self._tokenize, [texts[i] for i in chunks[n + 1]])
            yield self._infer(batch)

    def _tokenize(self, texts: list[str]) -> Batch:
        encoded = self.tokenizer(
            [t.strip() for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_seq_length,
            return_tensors="np",
        )
        batch = {k: np.asarray(v, dtype=np.int64) for k, v in encoded.items() if k in self._inputs}
        if "token_type_ids" in self._inputs and "token_type_ids" not in batch:
            batch["token_type_ids"] = np.zeros_like(batch["input_ids"])
        return batch

    def _infer(self, batch: Batch) -> np.ndarray:
        (hidden,) = self.session.run(["last_hidden_state"], batch)
        mask = batch["attention_mask"][..., None].astype(np.float32)
        summed = (hidden * mask).sum(axis=1)
        vectors = summed / np.clip(mask.sum(axis=1), 1e-9, None)
        if self.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.clip(norms, 1e-12, None)
        return vectors.astype(np.float32)

    def _infer_one(self, text: str) -> np.ndarray:
        """One text, tokenized by the Rust tokenizer directly and mean-pooled without a mask.

        A query is the service's hot path: the transformers wrapper's call and the masked
        pooling of a batch cost ~0.2 ms of a ~3 ms query embedding here, and one unpadded
        text needs neither.
        """
        assert self._single is not None
        encoding = self._single.encode(text.strip())
        ids = np.asarray([encoding.ids], dtype=np.int64)
        batch = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._inputs:
            batch["token_type_ids"] = np.asarray([encoding.type_ids], dtype=np.int64)
        (hidden,) = self.session.run(["last_hidden_state"], batch)
        vector = hidden[0].mean(axis=0, dtype=np.float32)
        if self.normalize:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector[None, :].astype(np.float32, copy=False)

    def close(self) -> None:
        """Stop the tokenizer thread."""
        self._pool.shutdown(wait=False)


def single_text_tokenizer(tokenizer: Any, max_seq_length: int) -> Any | None:
    """A copy of a fast tokenizer's Rust tokenizer that truncates like the transformers call
    (no padding), or None when it does not give the same ids on VERIFY_TEXTS and a long text
    (the encoder then tokenizes single texts like batches)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    from tokenizers import Tokenizer

    single = Tokenizer.from_str(backend.to_str())
    single.no_padding()
    side = getattr(tokenizer, "truncation_side", "right")
    single.enable_truncation(max_seq_length, direction=side)
    probes = [*VERIFY_TEXTS, " ".join(VERIFY_TEXTS) * 20]
    for text in probes:
        expected = tokenizer([text.strip()], truncation=True, max_length=max_seq_length)
        if single.encode(text.strip()).ids != list(expected["input_ids"][0]):
            return None
    return single


SPIN_MODES = {  # $RAG_ONNX_SPIN -> (allow_spinning, force_spinning_stop)
    "run": ("1", "1"),  # default: threads spin while a call runs, sleep as soon as it returns
    "1": ("1", "0"),  # they spin between calls too (cores the service has to itself)
    "0": ("0", "0"),  # they never spin
}


def spin_settings() -> tuple[str, str]:
    """ONNX Runtime's allow_spinning and force_spinning_stop for `$RAG_ONNX_SPIN`."""
    value = os.environ.get(SPIN_ENV, "run").strip().lower() or "run"
    if value not in SPIN_MODES:
        raise ConfigError(f"${SPIN_ENV}", [f"{value!r}: use run (the default), 1 or 0"])
    return SPIN_MODES[value]


def cpu_session(path: Path, threads: int = 0) -> Any:
    """An ONNX Runtime CPU session whose threads spin as `$RAG_ONNX_SPIN` says.

    Within a call, spinning threads pick up the next parallel section at once (query embedding
    p50 ~2.8 vs ~3.4 ms without spinning on 2 idle cores: README § Query latency);
    between calls, spinning keeps both cores busy, which slowed everything else on a shared
    machine (hybrid p50 on 2 busy cores about halved without it). The default spins during a
    call and stops as soon as it returns (`session.force_spinning_stop`).
    """
    import onnxruntime as ort

    allow, stop = spin_settings()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", allow)
    options.add_session_config_entry("session.force_spinning_stop", stop)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    na = a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)
    nb = b / np.clip(np.linalg.norm(b, axis=1, keepdims=True), 1e-12, None)
    return np.asarray((na * nb).sum(axis=1))


def agreement(encoder: OnnxEncoder, reference: np.ndarray) -> float:
    """The lowest cosine between the encoder's and the reference vectors of VERIFY_TEXTS."""
    return float(cosines(encoder.encode(list(VERIFY_TEXTS)), reference).min())


def verify_export(encoder: OnnxEncoder, reference: np.ndarray, model: str) -> float:
    """The lowest cosine between the export's and torch's vectors of VERIFY_TEXTS; refuses below
    MIN_COSINE (the export is then not the same model)."""
    lowest = agreement(encoder, reference)
    if lowest < MIN_COSINE:
        raise ModelLoadError(
            f"the ONNX export of {model} at {encoder.path} differs from torch (cosine {lowest:.6f}"
            f" < {MIN_COSINE}); delete that file to re-export, or set embedding.backend: torch"
        )
    return lowest
