"""The embedding model: loaded once, fingerprinted, encoding batches on the chosen device."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag_pipelines.config.models import EmbeddingSettings
from rag_pipelines.embedding.backend import Backend, quantization_of, select_backend
from rag_pipelines.embedding.device import Accelerators, Runtime, TorchAccelerators, select_runtime
from rag_pipelines.embedding.fingerprint import ModelFingerprint, weights_sha256
from rag_pipelines.embedding.multi_device import DevicePool
from rag_pipelines.embedding.onnx_encoder import (
    MIN_COSINE,
    VERIFY_TEXTS,
    OnnxEncoder,
    agreement,
    verify_export,
)
from rag_pipelines.embedding.onnx_export import artifact_dir, ensure_export, ensure_fused
from rag_pipelines.embedding.resolve import ResolvedModel, resolve_model
from rag_pipelines.errors import ModelLoadError

log = logging.getLogger(__name__)


class EmbeddingModel(Protocol):
    """What the pipeline needs from a model; tests can pass a deterministic fake."""

    fingerprint: ModelFingerprint

    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 vectors, one row per text."""
        ...


class ModelTokenizer:
    """The model's own tokenizer without truncation or padding, for counting and cutting."""

    def __init__(self, hf_tokenizer: Any, max_seq_length: int) -> None:
        backend = copy.deepcopy(hf_tokenizer.backend_tokenizer)
        backend.no_truncation()
        backend.no_padding()
        self._backend = backend
        special = int(hf_tokenizer.num_special_tokens_to_add(pair=False))
        self.max_tokens = max_seq_length - special

    def encode(self, text: str) -> list[int]:
        """Token ids without special tokens."""
        return list(self._backend.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: list[int]) -> str:
        """Text for token ids."""
        return str(self._backend.decode(ids))


def default_onnx_dir() -> Path:
    """Where ONNX exports go when no data dir is given (pipelines pass `<data_dir>/cache/onnx`)."""
    return Path.home() / ".cache" / "rag-pipelines" / "onnx"


class SentenceTransformerModel:
    """A sentence-transformers model with its fingerprint, runtime and encoding backend.

    With an ONNX backend the torch model is still loaded: it is what gets exported (once, cached
    under `onnx_dir` by fingerprint), the reference the export is verified against, and the
    tokenizer's owner.
    """

    def __init__(
        self,
        settings: EmbeddingSettings,
        accelerators: Accelerators | None = None,
        onnx_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.resolved: ResolvedModel = resolve_model(settings.model, settings.revision)
        self.runtime: Runtime = select_runtime(
            settings.device, settings.precision, accelerators or TorchAccelerators()
        )
        self.backend: Backend = select_backend(
            settings.backend, self.runtime.device, pooled=bool(settings.devices)
        )
        self._model = _load(self.resolved, self.runtime)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelLoadError(f"{settings.model} does not report an embedding dimension")
        base = ModelFingerprint(
            name=self.resolved.name,
            revision=self.resolved.revision,
            weights_sha256=None if self.resolved.revision else weights_sha256(self.resolved.path),
            dimension=int(dimension),
            normalize=settings.normalize,
        )
        self.fingerprint = base.model_copy(
            update={"backend": self.backend, "quantization": quantization_of(self.backend)}
        )
        self.tokenizer = ModelTokenizer(self._model.tokenizer, int(self._model.max_seq_length))
        self.pool = DevicePool.for_model(
            self._model, settings.devices, settings.batch_size, settings.normalize
        )
        self.onnx: OnnxEncoder | None = None
        if self.backend != "torch":
            self.onnx = self._onnx_encoder(artifact_dir(onnx_dir or default_onnx_dir(), base.key))

    def _onnx_encoder(self, folder: Path) -> OnnxEncoder:
        """The verified fp32 export (fused where the architecture allows), or its int8
        quantization (of the plain export, so int8 vectors do not depend on the fusions)."""

        def encoder(path: Path) -> OnnxEncoder:
            return OnnxEncoder(
                path,
                self._model.tokenizer,
                self.max_seq_length,
                self.settings.batch_size,
                self.settings.normalize,
            )

        reference = self._encode_torch(list(VERIFY_TEXTS))
        if self.backend == "onnx":
            fused = ensure_fused(self._model, folder)
            if fused is not None:
                candidate = encoder(fused)
                if agreement(candidate, reference) >= MIN_COSINE:
                    return candidate
                log.warning("the fused export at %s differs from torch; not used", fused)
                candidate.close()
        fp32 = encoder(ensure_export(self._model, folder, int8=False))
        verify_export(fp32, reference, self.resolved.ref)
        if self.backend == "onnx":
            return fp32
        fp32.close()
        return encoder(ensure_export(self._model, folder, int8=True))

    @property
    def max_seq_length(self) -> int:
        """Longest input in tokens (special tokens included) the model reads."""
        return int(self._model.max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Batched, optionally normalized float32 embeddings."""
        if not texts:
            return np.zeros((0, self.fingerprint.dimension), dtype=np.float32)
        if self.pool is not None and self.pool.takes(len(texts)):
            return self.pool.encode(texts)
        if self.onnx is not None:
            return self.onnx.encode(texts)
        return self._encode_torch(texts)

    def _encode_torch(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self.settings.batch_size,
            normalize_embeddings=self.settings.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _load(resolved: ResolvedModel, runtime: Runtime) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(
            str(resolved.path), device=runtime.device, local_files_only=True
        )
    except Exception as exc:
        raise ModelLoadError(
            f"could not load model {resolved.ref!r} from {resolved.path}: {exc}"
        ) from exc
    if runtime.precision == "fp16":
        model.half()
    log.info("loaded %s on %s (%s)", resolved.ref, runtime.device, runtime.precision)
    return model
