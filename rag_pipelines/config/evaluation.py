"""sources.yaml's golden sets, embedding fine-tuning and the publishing gate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rag_pipelines.config.base import NAME_PATTERN, ExistingFile, StrictModel
from rag_pipelines.config.retrieval import Mode


class EvalSetSettings(StrictModel):
    """A golden set: BEIR-format queries and judgements over one source's document ids."""

    name: str = Field(
        pattern=NAME_PATTERN,
        description="The golden set's name (in check metadata and eval output).",
    )
    queries: ExistingFile = Field(description="BEIR queries.jsonl.")
    qrels: ExistingFile = Field(description="BEIR qrels .tsv (query id, document id, relevance).")
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    max_queries: int | None = Field(None, ge=1, description="Evaluate at most N queries.")
    holdout_fraction: float = Field(
        0.3, gt=0, lt=1, description="Share of queries held back from tuning and training."
    )
    seed: int = Field(13, description="Seed of the hash split into tuning and held-back queries.")


class EmbeddingFinetuneSettings(StrictModel):
    """Fine-tune the embedding model on judged pairs (in-batch negatives), judged on held-back."""

    queries: ExistingFile = Field(description="BEIR queries.jsonl to train on.")
    qrels: ExistingFile = Field(description="BEIR qrels .tsv naming the relevant documents.")
    source: str | None = Field(None, description="The source whose document ids the qrels use.")
    output: str = Field("finetuned", pattern=NAME_PATTERN, description="<data_dir>/models/<output>")
    max_queries: int | None = Field(None, ge=1, description="Train on at most N queries.")
    holdout_fraction: float = Field(
        0.3, gt=0, lt=1, description="Share held back for base vs fine-tuned."
    )
    epochs: int = Field(1, ge=1, le=20, description="Passes over the training pairs.")
    batch_size: int = Field(32, ge=2, le=512, description="Pairs per batch (in-batch negatives).")
    max_seq_length: int = Field(256, ge=16, le=512, description="Tokens per text while training.")
    learning_rate: float = Field(2e-5, gt=0, lt=1, description="AdamW learning rate.")
    seed: int = Field(13, description="Seed of the split and the training order.")
    hard_negatives: bool = Field(
        False,
        description="Give each pair a hard negative: a chunk of an unjudged document from the "
        "live version's hybrid top 30 (below its first 2 hits). Needs a published version.",
    )
    pseudo_queries: int | None = Field(
        None,
        ge=1,
        description="Add N inverse-cloze pairs from the corpus (a chunk's sentence as the query, "
        "the rest of the chunk as the positive; chunks picked by a seeded hash, no judgements).",
    )


class QualityGate(StrictModel):
    """When a candidate version may replace the live one."""

    mode: Mode = Field("hybrid", description="The retrieval mode the gate judges.")
    metric: Literal["ndcg@10", "recall@10", "recall@100", "mrr@10"] = Field(
        "ndcg@10", description="The metric the gate compares."
    )
    floor: float = Field(0.0, ge=0, le=1, description="Block below this absolute value.")
    max_regression: float = Field(
        0.02, ge=0, le=1, description="Block if worse than the live version by more than this."
    )
