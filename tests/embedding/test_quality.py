"""The real model's vectors: unit length, and a SciFact claim finds its abstract."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np


def load_pairs(scifact_dir: Path, pairs: int, distractors: int) -> tuple[list[str], list[str]]:
    """Claims, and a pool of abstracts whose first `pairs` entries answer the claims in order."""
    corpus = {}
    with (scifact_dir / "corpus.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            corpus[row["_id"]] = f"{row['title']}\n{row['text']}"
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        queries = {row["_id"]: row["text"] for row in map(json.loads, handle)}
    chosen: dict[str, str] = {}
    with (scifact_dir / "qrels" / "train.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["query-id"] not in chosen and row["corpus-id"] not in chosen.values():
                chosen[row["query-id"]] = row["corpus-id"]
            if len(chosen) == pairs:
                break
    others = [k for k in corpus if k not in chosen.values()][:distractors]
    return [queries[q] for q in chosen], [corpus[d] for d in [*chosen.values(), *others]]


def test_normalized_vectors_have_unit_norm(minilm: Any) -> None:
    """With normalize on (the default) every vector has length 1."""
    vectors = minilm.encode(["short", "a somewhat longer sentence about cells", "x " * 400])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_claims_are_closest_to_their_abstracts(minilm: Any, scifact_dir: Path) -> None:
    """Among 50 abstracts, a claim ranks its own abstract first nearly always, top 5 always."""
    claims, abstracts = load_pairs(scifact_dir, pairs=20, distractors=30)
    scores = minilm.encode(claims) @ minilm.encode(abstracts).T
    ranks = [int((scores[i] > scores[i, i]).sum()) for i in range(len(claims))]
    # Measured: 17 of 20 first, the rest 2nd to 5th (MiniLM's SciFact nDCG@10 is about 0.65).
    assert sum(r == 0 for r in ranks) >= 16, ranks
    assert max(ranks) < 5, ranks
