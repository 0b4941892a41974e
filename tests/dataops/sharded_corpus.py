"""A generated BEIR-format corpus and one pipeline config over it, with a given shard count."""

from __future__ import annotations

import json
import random
from pathlib import Path

import dagster as dg
import yaml

from assets.runs import materialize_sources
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile

SOURCE = "papers"
DOCUMENTS = 36
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
# Made-up words, so that few chunks tie on BM25 (a real corpus rarely does).
WORDS = sorted({"".join(random.Random(i).sample(_SYLLABLES, 3)) for i in range(600)})
_WEIGHTS = [1 / (rank + 8) for rank in range(len(WORDS))]
_QUERY_WORDS = random.Random(99)
QUERIES = tuple(" ".join(_QUERY_WORDS.sample(WORDS[:60], 4)) for _ in range(5))


def write_beir_corpus(folder: Path, documents: int = DOCUMENTS, seed: int = 13) -> Path:
    """corpus.jsonl with `documents` records of generated text (several chunks each)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(documents):
        # Earlier words are likelier (roughly Zipf), so documents share some terms.
        sentences = [
            " ".join(rng.choices(WORDS, _WEIGHTS, k=rng.randint(8, 14))).capitalize() + "."
            for _ in range(rng.randint(4, 9))
        ]
        title = " ".join(rng.choice(WORDS) for _ in range(3)).title()
        lines.append(
            json.dumps({"_id": f"doc{i * 7 + 3}", "title": title, "text": " ".join(sentences)})
        )
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def edit_record(folder: Path, document_id: str, text: str | None) -> None:
    """Replace one record's text in corpus.jsonl, or delete it (`text=None`)."""
    path = folder / "corpus.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = [r for r in records if text is not None or r["_id"] != document_id]
    for record in records:
        if record["_id"] == document_id:
            record["text"] = text
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")


def write_sharded_config(tmp: Path, corpus: Path, shards: int, name: str) -> SourcesFile:
    """A pipeline over the corpus with `shards` shards, its state under tmp/<name>."""
    data = {
        "pipeline": {"name": name, "data_dir": str(tmp / name)},
        "embedding": {"device": "cpu"},
        # qdrant-client's local mode scores in numpy, the same way every build. (Qdrant Edge's
        # sparse sums differed by a float32 ulp between two builds of the same chunks, which
        # can swap two near-tied chunks; nothing the sharding could change.)
        "index": {"qdrant": {"backend": "local"}},
        "sources": [
            {
                "name": SOURCE,
                "shards": shards,
                "connector": {"type": "beir", "path": str(corpus)},
                "chunking": {"chunk_size": 48, "chunk_overlap": 8},
            }
        ],
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)


def materialize_in_process(config_path: str, dagster_home: str, keys: list[str]) -> list[bool]:
    """One worker process: materialize these partitions, one run each, into a shared instance.

    Dagster's in-process execution configures logging globally, so two runs at once need two
    processes (as two run workers or two GPU nodes would be).
    """
    config = load_sources_file(config_path)
    with dg.DagsterInstance.from_config(dagster_home) as instance:
        return [r.success for r in materialize_sources(config, instance, keys)]
