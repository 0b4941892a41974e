"""Stage: fine-tune the embedding model on judged pairs and judge it on held-back queries.

The judged queries are split as the golden sets split them (hash of the query id, same
fraction and seed give the same split): training sees only the tuning part, and base and
fine-tuned models are compared by exact dense retrieval over the source's chunks on the
held-back part. The model is saved to `<data_dir>/models/<output>` with its own fingerprint
(folder name + weights hash); its chunk vectors go into the embedding cache, so pointing
`embedding.model` at it re-embeds nothing. Publishing goes the usual way: the model-version
sensor sees the new model, a new version is built, and the blocking checks compare it with
the live one. With `hard_negatives`, each pair also gets a chunk of an unjudged document that
the live version's hybrid search ranks high for the query (mined on tuning queries only).
With `pseudo_queries`, inverse-cloze pairs from the corpus join the judged ones
(pseudo_queries.py; no judgement is read).
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.models import EmbeddingFinetuneSettings, EmbeddingSettings
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.embedder import embed_chunks
from rag_pipelines.embedding.identity import configured_identity
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.embedding.resolve import resolve_model
from rag_pipelines.errors import RagPipelinesError
from rag_pipelines.evaluation.crossfit import Fold
from rag_pipelines.evaluation.dense import dense_document_run
from rag_pipelines.evaluation.golden import GoldenSet, load_beir
from rag_pipelines.evaluation.metrics import evaluate
from rag_pipelines.hashing import sha256_bytes, sha256_text
from rag_pipelines.index.vector_store import PayloadFilter
from rag_pipelines.index.versions import utc_now
from rag_pipelines.pipeline.build.chunks import load_chunks
from rag_pipelines.pipeline.tuning.pseudo_queries import pseudo_pairs
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.storage import atomic_write_text
from rag_pipelines.training.embedding import TrainingPair, finetune_model

RECORD = "finetune.json"
NEGATIVE_DEPTH = 30  # hard negatives come from the hybrid's top 30 documents …
NEGATIVE_SKIP = 2  # … below its first 2 (likeliest to be relevant but unjudged)
Progress = Callable[[int, int], None]
Ranked = Callable[[str], list[tuple[str, str]]]  # query → (document id, passage) best first


class FinetuneError(RagPipelinesError):
    """Fine-tuning cannot run (nothing chunked yet, or no judged pair in the corpus)."""


class FinetuneRecord(BaseModel):
    """What was trained from what, and how it did on the held-back queries."""

    key: str = Field(description="Base model, judgements, chunks and settings it was made from.")
    base_ref: str
    base_fingerprint: str
    fingerprint: str
    model_path: str
    train_queries: int
    train_pairs: int
    holdout_queries: int
    holdout: dict[str, dict[str, float]] = Field(description="base / finetuned → metric → value")
    training: dict[str, float]
    trained_at: str


@dataclass
class FinetuneReport:
    """The record, and whether an identical earlier run was reused."""

    record: FinetuneRecord
    reused: bool
    seconds: float


def finetune_output(ctx: PipelineContext) -> Path:
    """Where the fine-tuned model is saved."""
    settings = ctx.config.embedding.finetune
    assert settings is not None
    return ctx.workspace.root / "models" / settings.output


def load_finetune_record(model_dir: Path) -> FinetuneRecord | None:
    """The record saved beside a fine-tuned model, if any."""
    path = model_dir / RECORD
    return FinetuneRecord.model_validate_json(path.read_text()) if path.exists() else None


def finetune_embedding(
    ctx: PipelineContext,
    progress: Progress | None = None,
    live: Callable[[], VersionIndex] | None = None,
    leave_out: Fold | None = None,
) -> FinetuneReport:
    """Fine-tune (or reuse an identical earlier fine-tune) and compare it with the base model.

    `live` opens the published version; only `hard_negatives` needs it (to mine negatives).
    `leave_out` trains on the tuning queries outside that fold only (cross-fitting).
    """
    started = time.perf_counter()
    settings = ctx.config.embedding.finetune
    if settings is None:
        raise FinetuneError("embedding.finetune is not configured")
    output = finetune_output(ctx)
    base_settings = _base_settings(ctx, output)
    chunks = _chunks(ctx, settings.source)
    key = sha256_text(
        configured_identity(base_settings),
        sha256_bytes(settings.queries.read_bytes()),
        sha256_bytes(settings.qrels.read_bytes()),
        # options left off keep the key of fine-tunes made before they existed
        settings.model_dump_json(exclude=_unset_options(settings)),
        *sorted(c.text_hash for c in chunks),
        *([f"leave_out:{leave_out.index}/{leave_out.count}"] if leave_out else []),
    )[:16]
    existing = load_finetune_record(output)
    if existing is not None and existing.key == key:
        return FinetuneReport(existing, True, time.perf_counter() - started)

    golden = load_beir(settings.queries, settings.qrels, "finetune")
    documents = [c.document_id for c in chunks]
    tune, holdout = _in_corpus(golden, set(documents)).split(
        settings.holdout_fraction, settings.seed
    )
    if leave_out is not None:
        tune = tune.subset([q for q in tune.queries if not leave_out.contains(q)], tune.name)
    if settings.max_queries is not None:
        tune = tune.subset(list(tune.queries)[: settings.max_queries], tune.name)
    base = SentenceTransformerModel(base_settings)
    base_vectors = _chunk_vectors(ctx, base, chunks)
    pairs = training_pairs(tune, base.encode(list(tune.queries.values())), chunks, base_vectors)
    if len(pairs) < 2:
        raise FinetuneError(
            f"only {len(pairs)} judged pair(s) have their document in the corpus; "
            "check embedding.finetune.source and the qrels"
        )
    real_pairs = len(pairs)
    if settings.hard_negatives:
        if live is None or ctx.registry.live() is None:
            raise FinetuneError(
                "embedding.finetune.hard_negatives mines the published version's hybrid "
                "results: publish a version first (materialize the pipeline), or turn it off"
            )
        index = live()
        try:
            pairs = with_hard_negatives(
                pairs, tune, hybrid_documents(index, settings.source), settings.seed
            )
        finally:
            index.close()
    if settings.pseudo_queries:
        pairs = pairs + pseudo_pairs(chunks, settings.pseudo_queries, settings.seed)
    training = _train(base, pairs, settings, output, progress)
    training["pairs_with_negative"] = sum(p.negative is not None for p in pairs)
    training["pseudo_pairs"] = len(pairs) - real_pairs
    tuned = SentenceTransformerModel(base_settings.model_copy(update={"model": str(output)}))
    holdout_scores = {
        "base": _dense_scores(holdout, base, base_vectors, documents),
        "finetuned": _dense_scores(holdout, tuned, _chunk_vectors(ctx, tuned, chunks), documents),
    }
    record = FinetuneRecord(
        key=key,
        base_ref=base_settings.model,
        base_fingerprint=base.fingerprint.key,
        fingerprint=tuned.fingerprint.key,
        model_path=str(output),
        train_queries=len(tune.queries),
        train_pairs=len(pairs),
        holdout_queries=len(holdout.queries),
        holdout=holdout_scores,
        training=training,
        trained_at=utc_now(),
    )
    atomic_write_text(output / RECORD, record.model_dump_json(indent=2))
    return FinetuneReport(record, False, time.perf_counter() - started)


def training_pairs(
    golden: GoldenSet, query_vectors: np.ndarray, chunks: list[Chunk], chunk_vectors: np.ndarray
) -> list[TrainingPair]:
    """For each judged (query, document): the document's chunk the base model finds closest."""
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        rows.setdefault(c.document_id, []).append(i)
    pairs: list[TrainingPair] = []
    for q, (query_id, text) in enumerate(golden.queries.items()):
        for document in sorted(golden.qrels[query_id]):
            candidates = rows.get(document)
            if not candidates:
                continue
            best = max(candidates, key=lambda i: float(chunk_vectors[i] @ query_vectors[q]))
            pairs.append(TrainingPair(text, chunks[best].embed_text, document))
    return pairs


def with_hard_negatives(
    pairs: list[TrainingPair], golden: GoldenSet, ranked: Ranked, seed: int
) -> list[TrainingPair]:
    """Each pair with a passage of an unjudged document `ranked` puts 3rd–30th (seeded pick).

    A query with no such document keeps in-batch negatives only.
    """
    by_text = {text: query_id for query_id, text in golden.queries.items()}
    candidates: dict[str, list[tuple[str, str]]] = {}
    out: list[TrainingPair] = []
    for pair in pairs:
        query_id = by_text[pair.query]
        if query_id not in candidates:
            relevant = golden.qrels[query_id]
            ranking = ranked(pair.query)[NEGATIVE_SKIP:NEGATIVE_DEPTH]
            candidates[query_id] = [(d, p) for d, p in ranking if d not in relevant]
        pool = candidates[query_id]
        if not pool:
            out.append(pair)
            continue
        document, passage = random.Random(f"{seed}:{query_id}:{pair.document}").choice(pool)
        out.append(TrainingPair(pair.query, pair.passage, pair.document, passage, document))
    return out


def hybrid_documents(index: VersionIndex, source: str | None) -> Ranked:
    """A version's hybrid ranking as documents with their best-ranked chunk's passage."""
    flt = PayloadFilter(sources=(source,)) if source else None

    def ranked(query: str) -> list[tuple[str, str]]:
        response = index.search(query, NEGATIVE_DEPTH * 3, "hybrid", False, flt)
        documents: dict[str, str] = {}
        for hit in response.hits:
            if hit.provenance.document_id not in documents:
                passage = index.passage(hit.chunk_id) or hit.text
                documents[hit.provenance.document_id] = passage
        return list(documents.items())[:NEGATIVE_DEPTH]

    return ranked


def _unset_options(settings: EmbeddingFinetuneSettings) -> set[str]:
    """Recipe options that are off, left out of the key (so older keys stay valid)."""
    off = set() if settings.hard_negatives else {"hard_negatives"}
    return off | (set() if settings.pseudo_queries else {"pseudo_queries"})


def _base_settings(ctx: PipelineContext, output: Path) -> EmbeddingSettings:
    """embedding.model, or (once it points at the fine-tuned model) the model that was tuned."""
    settings = ctx.config.embedding.model_copy(update={"finetune": None})
    if resolve_model(settings.model, settings.revision).path == output.resolve():
        record = load_finetune_record(output)
        if record is None:
            raise FinetuneError(f"embedding.model is {output} but it has no {RECORD}")
        settings = settings.model_copy(update={"model": record.base_ref})
    return settings


def _chunks(ctx: PipelineContext, source: str | None) -> list[Chunk]:
    known = [s.name for s in ctx.config.sources]
    if source is not None and source not in known:
        raise FinetuneError(f"embedding.finetune.source {source!r} is not a source ({known})")
    names = [source] if source else known
    chunks = [c for name in names for c in load_chunks(ctx, name)]
    if not chunks:
        raise FinetuneError(f"no chunks in {names}; materialize chunks first")
    return chunks


def _in_corpus(golden: GoldenSet, documents: set[str]) -> GoldenSet:
    """Only judgements whose document is in the corpus (others can neither train nor score)."""
    qrels = {
        q: {d: grade for d, grade in docs.items() if d in documents}
        for q, docs in golden.qrels.items()
    }
    kept = [q for q, docs in qrels.items() if docs]
    return GoldenSet(golden.name, {q: golden.queries[q] for q in kept}, {q: qrels[q] for q in kept})


def _chunk_vectors(
    ctx: PipelineContext, model: SentenceTransformerModel, chunks: list[Chunk]
) -> np.ndarray:
    """Vectors of the chunks under `model`, from (and into) the shared embedding cache."""
    cache = ctx.embedding_cache()
    try:
        embed_chunks(chunks, model, cache)
        vectors = cache.get(model.fingerprint.key, (c.text_hash for c in chunks))
    finally:
        cache.close()
    return np.stack([vectors[c.text_hash] for c in chunks])


def _train(
    base: SentenceTransformerModel,
    pairs: list[TrainingPair],
    settings: EmbeddingFinetuneSettings,
    output: Path,
    progress: Progress | None,
) -> dict[str, float]:
    """Train into a scratch folder, then swap it in (a crash never leaves half a model)."""
    scratch = output.with_name(f".{output.name}.training")
    shutil.rmtree(scratch, ignore_errors=True)
    training = finetune_model(
        base.resolved.path, pairs, settings, scratch, base.runtime.device, progress
    )
    retired = output.with_name(f".{output.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if output.exists():
        output.rename(retired)
    scratch.rename(output)
    shutil.rmtree(retired, ignore_errors=True)
    return training


def _dense_scores(
    golden: GoldenSet,
    model: SentenceTransformerModel,
    chunk_vectors: np.ndarray,
    documents: list[str],
) -> dict[str, float]:
    ids = list(golden.queries)
    if not ids:
        return {}
    queries = model.encode([golden.queries[q] for q in ids])
    return evaluate(golden.qrels, dense_document_run(ids, queries, chunk_vectors, documents))
