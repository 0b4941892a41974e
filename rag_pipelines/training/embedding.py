"""Fine-tune a sentence-transformers model on (query, relevant passage) pairs.

The loss is MultipleNegativesRankingLoss: every other passage in a batch is a negative for a
query ("in-batch negatives"); a pair may also carry a mined hard negative, which then joins
the batch's passages. A plain training loop (as the
reranker trainer) rather than SentenceTransformerTrainer, which needs `datasets` and
`accelerate`, neither of which the pipeline otherwise uses.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_pipelines.config.models import EmbeddingFinetuneSettings
from rag_pipelines.training.setup import (
    Progress,
    optimizer_with_warmup,
    quiet_and_seeded,
    summary,
    take_step,
)


@dataclass(frozen=True)
class TrainingPair:
    """A query and a passage of a document judged relevant to it."""

    query: str
    passage: str
    document: str
    negative: str | None = None
    negative_document: str | None = None

    def keys(self) -> set[str]:
        """What must not repeat within a batch: the query and every document it holds."""
        keys = {"q:" + self.query, "d:" + self.document}
        if self.negative_document is not None:
            keys.add("d:" + self.negative_document)
        return keys


def batches_without_duplicates(
    pairs: list[TrainingPair], batch_size: int, seed: int
) -> list[list[TrainingPair]]:
    """Shuffled batches in which no query and no document (positive or negative) appears twice.

    With in-batch negatives, a second pair of the same document (or query) in a batch would
    be treated as a negative of itself; so would one pair's hard negative that is another's
    positive.
    """
    order = list(pairs)
    random.Random(seed).shuffle(order)
    batches: list[list[TrainingPair]] = []
    open_batches: list[tuple[list[TrainingPair], set[str]]] = []
    for pair in order:
        keys = pair.keys()
        for batch, seen in open_batches:
            if not keys & seen:
                batch.append(pair)
                seen.update(keys)
                break
        else:
            open_batches.append(([pair], set(keys)))
        full = [entry for entry in open_batches if len(entry[0]) == batch_size]
        for entry in full:
            batches.append(entry[0])
            open_batches.remove(entry)
    batches += [batch for batch, _ in open_batches if len(batch) > 1]
    return batches


def finetune_model(
    base_model: Path,
    pairs: list[TrainingPair],
    settings: EmbeddingFinetuneSettings,
    output: Path,
    device: str = "cpu",
    progress: Progress | None = None,
) -> dict[str, float]:
    """Train the base model on the pairs and save it (a sentence-transformers folder)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    quiet_and_seeded(settings.seed)
    model = SentenceTransformer(str(base_model), device=device, local_files_only=True)
    served_length = model.max_seq_length
    # Train on short inputs (cheaper); the saved model reads as far as the base model did.
    model.max_seq_length = min(settings.max_seq_length, served_length or 512)
    loss_fn = MultipleNegativesRankingLoss(model)
    epochs = [
        batches_without_duplicates(pairs, settings.batch_size, settings.seed + epoch)
        for epoch in range(settings.epochs)
    ]
    total = sum(len(batches) for batches in epochs)
    optimizer, scheduler = optimizer_with_warmup(
        [{"params": list(model.parameters()), "lr": settings.learning_rate}], total
    )
    started = time.perf_counter()
    model.train()
    step, last_loss = 0, 0.0
    for batches in epochs:
        for batch in batches:
            columns = [[p.query for p in batch], [p.passage for p in batch]]
            if all(p.negative is not None for p in batch):
                columns.append([str(p.negative) for p in batch])
            features = [_to_device(model.preprocess(c), model.device) for c in columns]
            loss = loss_fn(features, torch.empty(0))
            last_loss = take_step(loss, model, optimizer, scheduler)
            step += 1
            if progress is not None:
                progress(step, total)
    model.eval()
    model.max_seq_length = served_length
    output.mkdir(parents=True, exist_ok=True)
    model.save(str(output), create_model_card=False)
    return summary(len(pairs), step, last_loss, started)


def _to_device(features: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
