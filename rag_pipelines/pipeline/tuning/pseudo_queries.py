"""Inverse-cloze pseudo-pairs from the corpus: a sentence of a chunk as query, the rest as positive.

No judgement is read: chunks are picked by a seeded hash of their id (the N smallest blake2b
digests among chunks whose body has at least 2 sentences and one of at least 6 words), one
such sentence by another hash, and the positive is the chunk's embedded text (context header
+ body) with that sentence removed.
"""

from __future__ import annotations

import hashlib
import re

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.training.embedding import TrainingPair

MIN_WORDS = 6  # a pseudo-query sentence has at least this many words
MIN_SENTENCES = 2  # … and leaves at least one sentence behind as the positive
# a sentence ends at . ! or ? (optionally closed by a quote or bracket), before whitespace and
# a capital, digit or opening bracket / quote; not after an initial or a common abbreviation
_BOUNDARY = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z0-9(\[\"'])")
_NOT_AN_END = re.compile(r"(?:^|\s)(?:[A-Z]|e\.g|i\.e|et al|vs|Fig|Figs|Ref|No|approx)\.$", re.I)


def split_sentences(text: str) -> list[str]:
    """The text's sentences, stripped, in order (a deterministic regex, no model)."""
    text = text.strip()
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start() + 1]
        if _NOT_AN_END.search(head):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


def pseudo_pair(chunk: Chunk, seed: int) -> TrainingPair | None:
    """The chunk's pseudo-pair, or None when its body is too short to give one."""
    sentences = split_sentences(chunk.text)
    candidates = [i for i, s in enumerate(sentences) if len(s.split()) >= MIN_WORDS]
    if len(sentences) < MIN_SENTENCES or not candidates:
        return None
    pick = candidates[int.from_bytes(_digest(seed, chunk.id, "sentence")) % len(candidates)]
    rest = " ".join(s for i, s in enumerate(sentences) if i != pick)
    body = chunk.text.strip()
    embedded = chunk.embed_text.rstrip()
    header = embedded[: -len(body)] if body and embedded.endswith(body) else ""
    return TrainingPair(sentences[pick], header + rest, chunk.document_id)


def pseudo_pairs(chunks: list[Chunk], count: int, seed: int) -> list[TrainingPair]:
    """`count` pseudo-pairs from the chunks whose seeded hash of the id is smallest."""
    found = [(c, pseudo_pair(c, seed)) for c in chunks]
    eligible = sorted((_digest(seed, c.id), c.id, p) for c, p in found if p is not None)
    return [p for _, _, p in eligible[:count]]
