"""SQL connector against SQLite and a real PostgreSQL server on 127.0.0.1."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rag_pipelines.config.models import SourceConfig
from rag_pipelines.ingest.connectors.sql import SqlConnector
from rag_pipelines.ingest.ingestion import ingest_source, list_source
from tests.ingest.connectors.flow import changed, run_once, write_config

_databases = itertools.count()
Execute = Callable[[str], None]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Execute]:
    """(URL, run a statement) of an empty database with an `articles` table."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'docs.db'}"
        groups = "TEXT"
    else:
        server: Any = request.getfixturevalue("postgres_server")
        url = server.create_database(f"conn_{next(_databases)}")
        groups = "TEXT[]"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def execute(sql: str) -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)

    execute(
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT, team TEXT, "
        f"readers {groups}, updated_at TIMESTAMP)"
    )
    return url, execute


def _groups(names: str, url: str) -> str:
    """A readers value: an array literal on PostgreSQL, comma-separated text on SQLite."""
    if url.startswith("sqlite"):
        return f"'{names}'"
    return "ARRAY[" + ",".join(f"'{n}'" for n in names.split(",")) + "]"


def _connector(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "sql",
        "url": url,
        "table": "articles",
        "text_column": "body",
        "title_column": "title",
        "metadata_columns": ["team"],
        "updated_at_column": "updated_at",
        "access_groups_column": "readers",
        **extra,
    }


def _source(connector: dict[str, Any]) -> SourceConfig:
    return SourceConfig.model_validate({"name": "docs", "connector": connector})


def _insert(
    execute: Execute, url: str, row_id: int, body: str, when: str, readers: str = ""
) -> None:
    value = _groups(readers, url) if readers else "NULL"
    execute(
        "INSERT INTO articles (id, title, body, team, readers, updated_at) VALUES "
        f"({row_id}, 'Title {row_id}', '{body}', 'ops', {value}, '{when}')"
    )


def test_rows_become_documents_with_metadata_and_groups(database: tuple[str, Execute]) -> None:
    """Text, title, metadata columns and the access-groups column reach the items."""
    url, execute = database
    _insert(execute, url, 1, "Backups run nightly.", "2026-01-01 10:00:00", "ops,sre")
    _insert(execute, url, 2, "Lunch is at noon.", "2026-01-01 10:00:00")
    listing = list_source(_source(_connector(url)))
    first, second = listing.items
    assert (first.id, first.title, first.text) == ("1", "Title 1", "Backups run nightly.")
    assert first.metadata["team"] == "ops"
    assert (first.access_groups, second.access_groups) == (("ops", "sre"), None)


def test_modified_at_is_timezone_aware(database: tuple[str, Execute]) -> None:
    """Regression: a naive TIMESTAMP as modified_at broke freshness (naive minus aware time)."""
    url, execute = database
    _insert(execute, url, 1, "Backups run nightly.", "2026-01-01 10:00:00")
    [item] = list_source(_source(_connector(url))).items
    assert item.modified_at == "2026-01-01T10:00:00+00:00"


def test_uri_hides_the_password() -> None:
    """A document's uri names the database without the password in the URL."""
    connector = _source(_connector("postgresql+psycopg2://reader:s3cret@127.0.0.1/db")).connector
    assert isinstance(connector, SqlConnector)
    assert "s3cret" not in connector.location and "reader:***@127.0.0.1" in connector.location


def test_updated_at_cursor_reads_only_moved_rows(
    database: tuple[str, Execute], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only rows whose updated_at moved are read in full; upstream deletes are deleted."""
    url, execute = database
    _insert(execute, url, 1, "Backups run nightly.", "2026-01-01 10:00:00")
    _insert(execute, url, 2, "Lunch is at noon.", "2026-01-01 10:00:00")
    _insert(execute, url, 3, "Badges open doors.", "2026-01-01 10:00:00")
    source = _source(_connector(url))
    first = ingest_source(source, {})
    assert sorted(first.added) == ["1", "2", "3"]
    before = source.connector.signature()  # type: ignore[attr-defined]
    execute(
        "UPDATE articles SET body = 'Backups run hourly.', updated_at = '2026-02-01' WHERE id = 1"
    )
    execute("UPDATE articles SET updated_at = '2026-02-01' WHERE id = 2")  # touched, same text
    execute("DELETE FROM articles WHERE id = 3")
    assert source.connector.signature() != before  # type: ignore[attr-defined]
    read: list[list[str]] = []
    real = SqlConnector._documents_of

    def spy(self: SqlConnector, connection: Any, ids: Any) -> Any:
        read.append(list(ids))
        return real(self, connection, ids)

    monkeypatch.setattr(SqlConnector, "_documents_of", spy)
    second = ingest_source(source, {d.id: d for d in first.documents})
    assert read == [["1", "2"]]
    assert (second.changed, second.unchanged, second.deleted) == (["1"], ["2"], ["3"])
    third = ingest_source(source, {d.id: d for d in second.documents})
    assert read[-1] == [] and third.unchanged == ["1", "2"]


def test_query_instead_of_table(database: tuple[str, Execute]) -> None:
    """A SELECT works as the source; only its rows are documents."""
    url, execute = database
    _insert(execute, url, 1, "Backups run nightly.", "2026-01-01 10:00:00")
    _insert(execute, url, 2, "Lunch is at noon.", "2026-01-01 10:00:00")
    connector = _connector(url, table=None, query="SELECT * FROM articles WHERE id > 1")
    assert [i.id for i in list_source(_source(connector)).items] == ["2"]


def test_unreadable_table_deletes_nothing(database: tuple[str, Execute]) -> None:
    """A failing read is a failure that keeps every document, not an empty table."""
    url, execute = database
    _insert(execute, url, 1, "Backups run nightly.", "2026-01-01 10:00:00")
    first = ingest_source(_source(_connector(url)), {})
    execute("ALTER TABLE articles RENAME TO gone")
    second = ingest_source(_source(_connector(url)), {d.id: d for d in first.documents})
    assert (second.deleted, second.kept) == ([], ["1"])
    assert "cannot read the table" in second.failures[0].reason


def test_table_and_query_are_exclusive() -> None:
    """Setting both (or neither) is a config error that says what to do."""
    with pytest.raises(ValueError, match="exactly one of `table` or `query`"):
        _source(_connector("sqlite:///x.db", query="SELECT 1"))


def test_pipeline_reflects_add_change_delete(
    database: tuple[str, Execute], tmp_path: Path, fake_embedder: Any, tokenizer: Any
) -> None:
    """Rows reach the index with their groups; the sensor sees edits and deletes; they reach it."""
    url, execute = database
    _insert(execute, url, 1, "The alpha plan ships in May.", "2026-01-01 10:00:00", "ops")
    _insert(execute, url, 2, "Beta is retired.", "2026-01-01 10:00:00")
    config = write_config(tmp_path, _connector(url))
    first = run_once(config, fake_embedder, tokenizer)
    assert (first.groups["1"], first.groups["2"]) == (["ops"], ["public"])
    assert changed(config) == []
    execute("UPDATE articles SET body = 'The alpha plan ships in June.', updated_at = '2026-03-01'")
    execute("DELETE FROM articles WHERE id = 2")
    _insert(execute, url, 4, "Gamma is new.", "2026-03-01 00:00:00")
    assert changed(config) == ["docs"]
    second = run_once(config, fake_embedder, tokenizer)
    report = second.report
    assert (report.added, report.changed, report.deleted) == (["4"], ["1"], ["2"])
    assert sorted(second.texts) == ["1", "4"]
    assert "June" in second.texts["1"] and "May" not in second.texts["1"]


def test_byte_columns_are_decoded_as_text(database: tuple[str, Execute]) -> None:
    """Regression: a BLOB (SQLite) or bytea (PostgreSQL) body was indexed as its Python repr."""
    url, execute = database
    kind = "BLOB" if url.startswith("sqlite") else "BYTEA"
    execute(f"CREATE TABLE blobs (id INTEGER PRIMARY KEY, body {kind})")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    rows = [
        {"id": 1, "body": "Grüße aus der Küche.".encode()},
        {"id": 2, "body": "Crème brûlée.".encode("cp1252")},
        {"id": 3, "body": b"\x00\x01\x02binary\x00" * 10},
    ]
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO blobs (id, body) VALUES (:id, :body)"), rows)
    source = _source({"type": "sql", "url": url, "table": "blobs", "text_column": "body"})
    report = ingest_source(source, {})
    texts = {d.id: d.sections[0].text for d in report.documents}
    assert texts == {"1": "Grüße aus der Küche.", "2": "Crème brûlée."}
    assert {d.id: d.metadata.get("encoding") for d in report.documents} == {
        "1": None,
        "2": "cp1252",
    }
    [failure] = report.failures
    assert (failure.document_id, failure.error_type) == ("3", "BinaryValue")
    assert "column body holds binary data" in failure.reason
