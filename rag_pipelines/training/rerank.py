"""Train a cross-encoder reranker from judged pairs with hard negatives (no download needed).

No pretrained cross-encoder can be fetched offline, so we start from the shipped MiniLM weights
(a fresh one-logit head on the same encoder) and train on (query, passage, relevant?) pairs:
positives are the best chunk of each relevant document, negatives the top-ranked chunks of
non-relevant documents from the BM25 and dense legs ("hard" negatives, which teach the model
what the first stage gets wrong).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.config.models import RerankTrainSettings
from rag_pipelines.evaluation.golden import GoldenSet
from rag_pipelines.retrieval.engine import VersionIndex
from rag_pipelines.training.setup import (
    Progress,
    optimizer_with_warmup,
    quiet_and_seeded,
    summary,
    take_step,
)

log = logging.getLogger(__name__)
HEAD_LR_FACTOR = 30.0
# Bump when the training recipe changes, so a model trained the old way is not reused.
RECIPE = "2-posweight-headlr"


@dataclass(frozen=True)
class Pair:
    """One training example."""

    query: str
    passage: str
    label: float


def mine_pairs(index: VersionIndex, golden: GoldenSet, settings: RerankTrainSettings) -> list[Pair]:
    """Positives and hard negatives for every query, from the BM25 and dense legs."""
    pairs: list[Pair] = []
    for query_id, text in golden.queries.items():
        relevant = set(golden.qrels[query_id])
        legs = [
            index.search(text, 30, "bm25", False),
            index.search(text, 30, "dense", False),
        ]
        positives: dict[str, str] = {}
        negatives: list[str] = []
        seen_docs: set[str] = set()
        for rank in range(30):
            for response in legs:
                if rank >= len(response.hits):
                    continue
                hit = response.hits[rank]
                doc = hit.provenance.document_id
                passage = index.passage(hit.chunk_id) or hit.text
                if doc in relevant:
                    positives.setdefault(doc, passage)
                elif doc not in seen_docs and len(negatives) < settings.negatives_per_query:
                    negatives.append(passage)
                seen_docs.add(doc)
        for doc in relevant - set(positives):
            first = _first_chunk(index, doc)
            if first:
                positives[doc] = first
        pairs += [Pair(text, p, 1.0) for p in positives.values()]
        pairs += [Pair(text, n, 0.0) for n in negatives]
    return pairs


def train_cross_encoder(
    base_model: Path,
    pairs: list[Pair],
    settings: RerankTrainSettings,
    output: Path,
    device: str = "cpu",
    progress: Progress | None = None,
) -> dict[str, float]:
    """Fine-tune a one-logit cross-encoder on the pairs and save it to `output`."""
    import torch
    from sentence_transformers import CrossEncoder

    quiet_and_seeded(settings.seed)
    rng = random.Random(settings.seed)
    encoder = CrossEncoder(
        str(base_model),
        num_labels=1,
        max_length=settings.max_length,
        device=device,
        local_files_only=True,
    )
    model, tokenizer = encoder.model, encoder.tokenizer
    model.train()
    steps_per_epoch = (len(pairs) + settings.batch_size - 1) // settings.batch_size
    total = steps_per_epoch * settings.epochs
    # The one-logit head starts from random weights while the encoder is already trained: give the
    # head a much larger step so it finds a direction before the encoder drifts.
    head = [p for n, p in model.named_parameters() if n.startswith(("classifier", "bert.pooler"))]
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if id(p) not in head_ids]
    optimizer, scheduler = optimizer_with_warmup(
        [
            {"params": body, "lr": settings.learning_rate},
            {"params": head, "lr": settings.learning_rate * HEAD_LR_FACTOR},
        ],
        total,
    )
    # Hard negatives outnumber positives several to one; without re-weighting the cheapest
    # minimum is the class prior, and the model learns a constant (what an earlier run did).
    positives = sum(1 for p in pairs if p.label > 0.5)
    pos_weight = torch.tensor([(len(pairs) - positives) / max(1, positives)], device=model.device)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    started = time.perf_counter()
    step = 0
    last_loss = 0.0
    for _ in range(settings.epochs):
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for start in range(0, len(order), settings.batch_size):
            batch = [pairs[i] for i in order[start : start + settings.batch_size]]
            features = tokenizer(
                [p.query for p in batch],
                [p.passage for p in batch],
                padding=True,
                truncation="only_second",
                max_length=settings.max_length,
                return_tensors="pt",
            ).to(model.device)
            labels = torch.tensor(
                [p.label for p in batch], dtype=torch.float32, device=model.device
            )
            loss = loss_fn(model(**features).logits.view(-1), labels)
            last_loss = take_step(loss, model, optimizer, scheduler)
            step += 1
            if progress is not None:
                progress(step, total)
    model.eval()
    output.mkdir(parents=True, exist_ok=True)
    encoder.save(str(output))
    return summary(len(pairs), step, last_loss, started)


def _first_chunk(index: VersionIndex, document_id: str) -> str | None:
    for key in index.lookup.keys_for(document_id):
        chunks = index.lookup.chunks_of(key)
        if chunks:
            return index.passage(chunks[0]["chunk_id"])
    return None
