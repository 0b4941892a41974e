"""Inverse-cloze pseudo-pairs: sentence splitting, pair building, the fine-tune key, batching."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag_pipelines.chunking.models import Chunk
from rag_pipelines.config.models import EmbeddingFinetuneSettings
from rag_pipelines.pipeline.tuning.finetune import _unset_options
from rag_pipelines.pipeline.tuning.pseudo_queries import (
    MIN_WORDS,
    pseudo_pair,
    pseudo_pairs,
    split_sentences,
)
from rag_pipelines.training.embedding import TrainingPair, batches_without_duplicates

HEADER = "A study of things › Results"


def chunk(doc: str, body: str, ordinal: int = 0, header: str = HEADER) -> Chunk:
    """A chunk whose embedded text is header + newline + body (as the chunker writes it)."""
    return Chunk.model_validate(
        {
            "id": f"{doc}-{ordinal}",
            "source": "s",
            "document_id": doc,
            "document_uri": "file:///x",
            "document_hash": "h",
            "text": body,
            "embed_text": f"{header}\n{body}" if header else body,
            "text_hash": f"{doc}-{ordinal}",
            "token_count": 1,
            "ordinal": ordinal,
            "title": "t",
            "chunker": "test",
        }
    )


def body(i: int) -> str:
    """Three sentences, two long enough to be a pseudo-query."""
    return (
        f"Patients in cohort {i} received the treatment for six weeks. "
        f"Outcomes improved (p < 0.05). "
        f"The effect of dose {i} was larger in older patients, e.g. Those over 65."
    )


def test_sentences_split_at_ends_but_not_at_abbreviations_or_initials() -> None:
    """Ends of sentences split; 'e.g.', initials and decimals do not; the split is stable."""
    text = "We saw 1.8 fold more (n = 17). J. Smith et al. Found it, e.g. Twice! Why? 12 died."
    assert split_sentences(text) == [
        "We saw 1.8 fold more (n = 17).",
        "J. Smith et al. Found it, e.g. Twice!",
        "Why?",
        "12 died.",
    ]
    assert split_sentences("  one sentence only  ") == ["one sentence only"]
    assert split_sentences("") == []


def test_the_pseudo_query_is_a_long_sentence_removed_from_the_positive() -> None:
    """Query: a sentence of ≥ 6 words; positive: header + the other sentences, without it."""
    c = chunk("d1", body(1))
    pair = pseudo_pair(c, seed=13)
    assert pair is not None and pair.document == "d1"
    assert pair.query in split_sentences(c.text)
    assert len(pair.query.split()) >= MIN_WORDS
    assert pair.query not in pair.passage
    assert pair.passage.startswith(HEADER + "\n")
    rest = [s for s in split_sentences(c.text) if s != pair.query]
    assert pair.passage == HEADER + "\n" + " ".join(rest)
    assert pseudo_pair(c, seed=13) == pair


def test_a_chunk_without_a_header_gives_the_rest_of_its_body() -> None:
    """No context header: the positive is the remaining sentences only."""
    pair = pseudo_pair(chunk("d1", body(1), header=""), seed=13)
    assert pair is not None and not pair.passage.startswith(HEADER)
    assert pair.query not in pair.passage and pair.passage


def test_short_chunks_give_no_pair() -> None:
    """One sentence, or no sentence of ≥ 6 words, is skipped."""
    assert pseudo_pair(chunk("d", "Only one sentence here that is long enough."), 13) is None
    assert pseudo_pair(chunk("d", "Too short. Also short here."), 13) is None


def test_pairs_are_the_smallest_hashes_deterministic_per_seed() -> None:
    """N pairs, same seed same pairs (any input order), another seed picks other chunks."""
    chunks = [chunk(f"d{i}", body(i)) for i in range(40)]
    chunks.append(chunk("short", "Too short. Also short."))
    picked = pseudo_pairs(chunks, 10, seed=13)
    assert len(picked) == 10 and "short" not in {p.document for p in picked}
    assert pseudo_pairs(list(reversed(chunks)), 10, seed=13) == picked
    assert pseudo_pairs(chunks, 10, seed=14) != picked
    eligible = [c for c in chunks if c.document_id != "short"]
    digest = {c.id: hashlib.blake2b(f"13:{c.id}".encode(), digest_size=16).digest() for c in chunks}
    smallest = sorted(eligible, key=lambda c: digest[c.id])[:10]
    assert [p.document for p in picked] == [c.document_id for c in smallest]
    assert len(pseudo_pairs(chunks, 100, seed=13)) == 40  # fewer eligible chunks than asked


def test_the_finetune_key_changes_only_when_pseudo_queries_is_set(tmp_path: Path) -> None:
    """Off, the option is left out of the key (older fine-tunes are reused); on, it is in."""
    (tmp_path / "q.jsonl").write_text("")
    (tmp_path / "r.tsv").write_text("")
    plain = EmbeddingFinetuneSettings(queries=tmp_path / "q.jsonl", qrels=tmp_path / "r.tsv")
    hard = plain.model_copy(update={"hard_negatives": True})
    pseudo = plain.model_copy(update={"pseudo_queries": 640})

    def key(s: EmbeddingFinetuneSettings) -> str:
        return s.model_dump_json(exclude=_unset_options(s))

    assert "pseudo_queries" not in key(plain) and "hard_negatives" not in key(plain)
    assert "pseudo_queries" not in key(hard) and '"hard_negatives":true' in key(hard)
    assert '"pseudo_queries":640' in key(pseudo)
    assert len({key(plain), key(hard), key(pseudo)}) == 3


def test_no_batch_holds_two_positives_of_one_document() -> None:
    """Real and pseudo pairs of the same documents never meet in a batch (false negatives)."""
    chunks = [chunk(f"d{i % 15}", body(i), ordinal=i) for i in range(45)]
    real = [TrainingPair(f"claim {i}", f"passage {i}", f"d{i % 15}") for i in range(30)]
    data = real + pseudo_pairs(chunks, 40, seed=13)
    batches = batches_without_duplicates(data, 8, seed=13)
    for batch in batches:
        documents = [p.document for p in batch]
        assert len(documents) == len(set(documents))
    used = [p for b in batches for p in b]
    assert len(used) == len(set(map(id, used))) >= 0.9 * len(data)  # only lone leftovers drop
