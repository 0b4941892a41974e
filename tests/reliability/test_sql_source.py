"""A SQL source's hostile rows, end to end through the in-process runner on a real SQLite file:
each bad row is quarantined with a typed reason, the good rows are indexed and published."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml

from assets.runs import materialize_pipeline
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.pipeline.build.changes import changed_sources
from rag_pipelines.pipeline.build.documents import load_failures
from rag_pipelines.pipeline.build.snapshot import snapshot_chunks

SQL = "records"
FILES = "docs"
KETTLE = "The Zephyr kettle boils a litre of water in forty seconds."
UMLAUTS = "Der Kessel für grünen Tee kocht über, sagt die Küche."
CP1252 = "Café crème et brûlée: the bistro menu lists them."
HUGE = "An overflowing row repeats itself. " * (2 * (1 << 20) // 35 + 1)  # over 2 MiB


@dataclass
class SqlPipeline:
    """A pipeline folder: a SQLite database, a folder of files, sources.yaml, a data dir."""

    tmp: Path
    config: SourcesFile

    @property
    def ctx(self) -> PipelineContext:
        """Its context."""
        return PipelineContext(self.config)

    @property
    def database(self) -> Path:
        """The SQLite file the SQL source reads."""
        return self.tmp / "notes.db"

    def execute(self, sql: str, *params: Any) -> None:
        """Run one statement on the database and commit."""
        with sqlite3.connect(self.database) as connection:
            connection.execute(sql, params)

    def materialize(self) -> None:
        """Every source, then build, check and publish, in this process (raises on failure)."""
        materialize_pipeline(self.config, dg.DagsterInstance.ephemeral())

    def live_version(self) -> str:
        """The published version."""
        pointer = self.ctx.workspace.live_pointer.read_text(encoding="utf-8")
        return str(json.loads(pointer)["version"])

    def texts(self) -> dict[str, str]:
        """(source/document id) → its chunks' text, as the live version holds them."""
        texts: dict[str, str] = {}
        for chunk in snapshot_chunks(self.ctx, self.live_version()):
            key = f"{chunk.source}/{chunk.document_id}"
            texts[key] = f"{texts.get(key, '')} {chunk.text}".strip()
        return texts

    def failures(self, source: str = SQL) -> dict[str, str]:
        """document id → error type of the source's quarantined documents."""
        return {f.document_id: f.error_type for f in load_failures(self.ctx, source)}


def make_pipeline(tmp: Path, files: dict[str, str] | None = None, **sql: Any) -> SqlPipeline:
    """A `records` table read by a SQL source (1 MiB text bound), and `files` as a second,
    filesystem source when given."""
    with sqlite3.connect(tmp / "notes.db") as connection:
        connection.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body BLOB, updated_at TEXT)"
        )
    connector = {
        "type": "sql",
        "url": f"sqlite:///{tmp / 'notes.db'}",
        "table": "notes",
        "text_column": "body",
        "title_column": "title",
        "updated_at_column": "updated_at",
        "max_text_mb": 1,
        **sql,
    }
    sources: list[dict[str, Any]] = [{"name": SQL, "connector": connector}]
    if files is not None:
        for rel, text in files.items():
            (tmp / "corpus" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "corpus" / rel).write_text(text, encoding="utf-8")
        root = str(tmp / "corpus")
        sources.append({"name": FILES, "connector": {"type": "filesystem", "root": root}})
    data = {
        "pipeline": {"name": "sqlrows", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": sources,
    }
    (tmp / "sources.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return SqlPipeline(tmp, load_sources_file(tmp / "sources.yaml", env=os.environ))


def insert(pipeline: SqlPipeline, row_id: int, body: str | bytes, when: str = "2026-01-01") -> None:
    """A row with a title; `body` as TEXT (str) or as a BLOB (bytes)."""
    pipeline.execute(
        "INSERT INTO notes (id, title, body, updated_at) VALUES (?, ?, ?, ?)",
        row_id,
        f"Note {row_id}",
        body,
        when,
    )


@pytest.fixture(scope="module")
def hostile_rows(tmp_path_factory: pytest.TempPathFactory) -> SqlPipeline:
    """A good row, an oversized one and three BLOB bodies, materialized and published once."""
    pipeline = make_pipeline(tmp_path_factory.mktemp("sqlrows"))
    insert(pipeline, 1, KETTLE)
    insert(pipeline, 2, HUGE)
    insert(pipeline, 3, UMLAUTS.encode("utf-8"))
    insert(pipeline, 4, CP1252.encode("cp1252"))
    insert(pipeline, 5, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    pipeline.materialize()
    return pipeline


def test_a_row_over_max_text_mb_is_quarantined_and_the_rest_indexed(
    hostile_rows: SqlPipeline,
) -> None:
    """Regression: records had no text bound, so a 2 MiB row with max_text_mb: 1 was indexed."""
    texts = hostile_rows.texts()
    assert f"{SQL}/2" not in texts
    assert hostile_rows.failures()["2"] == "TooLarge"
    [failure] = [f for f in load_failures(hostile_rows.ctx, SQL) if f.document_id == "2"]
    assert "over max_text_mb=1" in failure.reason
    assert KETTLE in texts[f"{SQL}/1"]


def test_blob_text_is_decoded_and_binary_refused(hostile_rows: SqlPipeline) -> None:
    """Regression: a BLOB text column was indexed as its Python repr (b'...\\xc3\\xbc...')."""
    texts = hostile_rows.texts()
    assert texts[f"{SQL}/3"] == UMLAUTS  # UTF-8 bytes
    assert texts[f"{SQL}/4"] == CP1252  # not UTF-8: the fallback codec, as for files
    assert f"{SQL}/5" not in texts
    assert hostile_rows.failures()["5"] == "BinaryValue"
    assert not any("b'" in text or "\\x" in text for text in texts.values())


def test_a_failing_query_keeps_its_documents_and_other_sources_publish(tmp_path: Path) -> None:
    """Regression: a query that errors crashed the ingest (the signature had no error handling),
    quarantined nothing and skipped the build, so the other source's change never published."""
    query = "SELECT id, title, body, updated_at FROM notes"
    pipeline = make_pipeline(
        tmp_path,
        {"lamp.md": "# Orbax Lamp\n\nThe Orbax lamp glows teal.\n"},
        table=None,
        query=query,
    )
    insert(pipeline, 1, KETTLE)
    pipeline.materialize()
    first = pipeline.live_version()
    pipeline.execute("ALTER TABLE notes RENAME COLUMN body TO content")  # the query now errors
    drone = "The Velvet Drone delivers a cup of tea across the lawn."
    (tmp_path / "corpus" / "drone.md").write_text(f"# Velvet Drone\n\n{drone}\n", encoding="utf-8")

    pipeline.materialize()

    assert pipeline.live_version() != first
    texts = pipeline.texts()
    assert drone in texts[f"{FILES}/drone.md"]  # the other source's change is published
    assert KETTLE in texts[f"{SQL}/1"]  # the failing source keeps its last good documents
    [failure] = load_failures(pipeline.ctx, SQL)
    assert failure.error_type == "QueryFailed"
    assert "cannot read the query" in failure.reason and "no such column: body" in failure.reason
    assert changed_sources(pipeline.ctx, {}) == []  # the sensor neither crashes nor loops
    pipeline.execute("ALTER TABLE notes RENAME COLUMN content TO body")
    assert [c.source for c in changed_sources(pipeline.ctx, {})] == [SQL]  # fixed: runs again
