"""Fine-tune a sentence-transformers model on (query, relevant passage) pairs.

The loss is MultipleNegativesRankingLoss: every other passage in a batch is a negative for a
query ("in-batch negatives"), so no negatives need mining. A plain training loop (as the
reranker trainer) rather than SentenceTransformerTrainer, which needs `datasets` and
`accelerate`, neither of which the pipeline otherwise uses.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_pipelines.config.models import EmbeddingFinetuneSettings

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TrainingPair:
    """A query and a passage of a document judged relevant to it."""

    query: str
    passage: str
    document: str


def batches_without_duplicates(
    pairs: list[TrainingPair], batch_size: int, seed: int
) -> list[list[TrainingPair]]:
    """Shuffled batches in which no query and no document appears twice.

    With in-batch negatives, a second pair of the same document (or query) in a batch would
    be treated as a negative of itself.
    """
    order = list(pairs)
    random.Random(seed).shuffle(order)
    batches: list[list[TrainingPair]] = []
    open_batches: list[tuple[list[TrainingPair], set[str]]] = []
    for pair in order:
        keys = {"q:" + pair.query, "d:" + pair.document}
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
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.manual_seed(settings.seed)
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
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    started = time.perf_counter()
    model.train()
    step, last_loss = 0, 0.0
    for batches in epochs:
        for batch in batches:
            features = [
                _to_device(model.preprocess([p.query for p in batch]), model.device),
                _to_device(model.preprocess([p.passage for p in batch]), model.device),
            ]
            loss = loss_fn(features, torch.empty(0))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            last_loss = float(loss.detach())
            if progress is not None:
                progress(step, total)
    model.eval()
    model.max_seq_length = served_length
    output.mkdir(parents=True, exist_ok=True)
    model.save(str(output), create_model_card=False)
    return {
        "pairs": len(pairs),
        "steps": step,
        "final_loss": round(last_loss, 4),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _to_device(features: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
