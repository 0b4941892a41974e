"""Rows of a SQL table or query through SQLAlchemy: one row, one document.

A text column may hold bytes (a BLOB, a bytea): they are decoded as a text file's bytes are
(`sniff.decode_text`: a BOM, UTF-8, a declared charset, `fallback_encoding`); binary data is
refused as BinaryValue, never indexed as its Python repr.

`updated_at` is each row's version: the listing reads only ids and `updated_at` (which also
finds rows deleted upstream); full rows are read only for new ids and ids whose `updated_at`
moved since the last run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.connectors.base import Listing, Scalar, SourceItem
from rag_pipelines.ingest.models import Document, IngestFailure
from rag_pipelines.ingest.sniff import WrongFormat, decode_text

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"
_BATCH = 500
VERSION_KEY = "updated_at"  # the Document.metadata key holding a row's version
_BYTES = (bytes, bytearray, memoryview)  # what drivers return for BLOB / bytea columns


class BinaryValue(WrongFormat):
    """A column read as text holds binary data (an image, a compressed or encrypted value)."""


class QueryFailed(Exception):
    """The table or query could not be read (a renamed column, a syntax error, no permission):
    a failure of the whole source, whose documents are kept as they were."""


class SqlConnector(ConnectorSettings):
    """A table (or a SELECT) with an id column, text and title columns, and metadata columns."""

    type: Literal["sql"] = Field(description="sql: rows of a table or query (SQLAlchemy).")
    url: str = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg2://user@host/db")
    table: str | None = Field(
        None, pattern=_IDENTIFIER, description="The table to read (or give query)."
    )
    query: str | None = Field(None, description="A SELECT; used as a subquery.")
    id_column: str = Field(
        "id", pattern=_IDENTIFIER, description="Column holding each row's document id."
    )
    text_column: str = Field(
        "text", pattern=_IDENTIFIER, description="Column holding the text to index."
    )
    title_column: str | None = Field(
        None, pattern=_IDENTIFIER, description="Column holding the document title."
    )
    metadata_columns: list[str] = Field(
        default_factory=list, description="Columns copied into the document's metadata."
    )
    updated_at_column: str | None = Field(
        None,
        pattern=_IDENTIFIER,
        description="The row's version: only moved rows are read in full.",
    )
    access_groups_column: str | None = Field(
        None, pattern=_IDENTIFIER, description="An array column, or text with groups by ','."
    )
    fallback_encoding: str = Field(
        "cp1252", description="Codec of byte values (BLOB, bytea) that are not UTF-8."
    )

    @field_validator("url")
    @classmethod
    def _sqlite_relative(cls, value: str, info: ValidationInfo) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a SQLAlchemy URL: {value!r}") from None
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            base = (info.context or {}).get("base_dir")
            path = Path(url.database).expanduser()
            if not path.is_absolute():
                path = Path(base or Path.cwd()) / path
            return url.set(database=str(path.resolve())).render_as_string(hide_password=False)
        return value

    @field_validator("metadata_columns")
    @classmethod
    def _identifiers(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not re.match(_IDENTIFIER, c)]
        if bad:
            raise ValueError(f"not column names: {bad}")
        return value

    @model_validator(mode="after")
    def _table_or_query(self) -> SqlConnector:
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of `table` or `query`")
        return self

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()

    def _select(self, columns: Sequence[str], ids: Sequence[str] | None = None) -> Any:
        from sqlalchemy import column, select, table, text

        origin: Any
        if self.table is not None:
            schema, _, name = self.table.rpartition(".")
            origin = table(name, schema=schema or None)
        else:
            origin = text(str(self.query)).columns().subquery("src")
        statement: Any = select(*(column(c) for c in columns)).select_from(origin)
        if ids is not None:
            from sqlalchemy import String, cast

            statement = statement.where(cast(column(self.id_column), String).in_(list(ids)))
        return statement.order_by(column(self.id_column))

    def _versions(self, connection: Any) -> dict[str, str | None]:
        """id → updated_at (as text) of every row; None for each row without the column."""
        columns = [self.id_column] + ([self.updated_at_column] if self.updated_at_column else [])
        rows = connection.execute(self._select(columns)).all()
        return {str(r[0]): (_text(r[1]) if self.updated_at_column else None) for r in rows}

    def _documents_of(self, connection: Any, ids: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        wanted = [self.id_column, self.text_column]
        for extra in (self.title_column, self.updated_at_column, self.access_groups_column):
            if extra is not None and extra not in wanted:
                wanted.append(extra)
        wanted += [c for c in self.metadata_columns if c not in wanted]
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            yield from connection.execute(self._select(wanted, batch)).mappings()

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        """Every row as an item; rows whose version did not move reuse the last run's hash."""
        try:
            with self._connect() as connection:
                versions = self._versions(connection)
                stale = [
                    row_id
                    for row_id, version in versions.items()
                    if version is None
                    or row_id not in previous
                    or previous[row_id].metadata.get(VERSION_KEY) != version
                ]
                rows = {str(r[self.id_column]): r for r in self._documents_of(connection, stale)}
        except Exception as exc:  # each driver raises its own errors (sqlalchemy wraps most)
            error = self._read_failed(exc)
            failure = IngestFailure(
                source=source,
                document_id="./",
                uri=self.location,
                reason=str(error)[:500],
                error_type=type(error).__name__,
            )
            return Listing([], [failure], [""])
        items: list[SourceItem] = []
        failures: list[IngestFailure] = []
        for row_id, version in versions.items():
            row = rows.get(row_id)
            if row is None:  # unchanged since the last run (or deleted between the two reads)
                old = previous.get(row_id)
                if old is not None:
                    items.append(self._unchanged(row_id, version, old))
                continue
            try:
                items.append(self._item(row_id, row))
            except BinaryValue as exc:  # this row only: the others are indexed
                failures.append(
                    IngestFailure(
                        source=source,
                        document_id=row_id,
                        uri=f"{self.location}/{row_id}",
                        reason=str(exc)[:500],
                        error_type=type(exc).__name__,
                    )
                )
        return Listing(items=items, failures=failures)

    @property
    def location(self) -> str:
        """The URL without its password, and the table (or 'query')."""
        from sqlalchemy.engine import make_url

        safe = make_url(self.url).render_as_string(hide_password=True)
        return f"{safe}#{self.table or 'query'}"

    def _decoded(self, column: str, value: Any) -> tuple[str, str]:
        """(text, codec) of a column's value; bytes are decoded as a text file's are."""
        if value is None:
            return "", "utf-8"
        if not isinstance(value, _BYTES):
            return str(value), "utf-8"
        try:
            codec, text = decode_text(bytes(value), ".txt", self.fallback_encoding)
        except WrongFormat as exc:
            why = str(exc).rpartition("(")[2].rstrip(")") or "not text"
            raise BinaryValue(
                f"column {column} holds binary data, not text ({why}): select a text column, "
                "or leave such rows out with a `query`"
            ) from None
        return text, codec

    def _item(self, row_id: str, row: Mapping[str, Any]) -> SourceItem:
        text, codec = self._decoded(self.text_column, row[self.text_column])
        title = (
            self._decoded(self.title_column, row[self.title_column])[0] if self.title_column else ""
        )
        metadata: dict[str, Scalar] = {
            c: self._decoded(c, row[c])[0] if isinstance(row[c], _BYTES) else _scalar(row[c])
            for c in self.metadata_columns
        }
        if codec not in ("utf-8", "utf-8-sig"):
            metadata["encoding"] = codec  # decoded with a fallback: worth knowing, as for files
        if self.updated_at_column:
            metadata[VERSION_KEY] = _text(row[self.updated_at_column]) or ""
        groups = _groups(row[self.access_groups_column]) if self.access_groups_column else None
        # The version is left out of the hash: a row touched without a change stays unchanged.
        content = {k: v for k, v in metadata.items() if k != VERSION_KEY}
        version = str(metadata.get(VERSION_KEY) or "")
        return SourceItem(
            id=row_id,
            uri=f"{self.location}/{row_id}",
            content_hash=sha256_text(
                title, text, json.dumps(content, sort_keys=True), repr(groups)
            ),
            modified_at=_iso_or_none(version),
            size_bytes=len(text.encode("utf-8")),
            title=title or row_id,
            text=text,
            metadata=metadata,
            access_groups=groups,
        )

    def _unchanged(self, row_id: str, version: str | None, old: Document) -> SourceItem:
        return SourceItem(
            id=row_id,
            uri=old.uri,
            content_hash=old.content_hash,
            modified_at=old.modified_at,
            size_bytes=old.size_bytes,
            metadata={VERSION_KEY: version or ""},
            access_groups=tuple(old.access_groups) if old.access_groups is not None else None,
        )

    def _read_failed(self, exc: Exception) -> QueryFailed:
        what = "table" if self.table else "query"
        detail = " ".join(str(exc).split())
        return QueryFailed(
            f"cannot read the {what} ({type(exc).__name__}; the source's documents are kept as "
            f"they were until it reads again): {detail}"
        )

    def signature(self) -> str:
        """sha256 over every (id, updated_at); without updated_at, over every row read in full.

        A read that fails signs the failure instead of raising: the ingest it starts records a
        QueryFailed and keeps the documents, and the signature moves again once the read works.
        """
        digest = hashlib.sha256()
        try:
            with self._connect() as connection:
                versions = self._versions(connection)
                if self.updated_at_column is None:
                    for row in self._documents_of(connection, sorted(versions)):
                        digest.update(repr(sorted((k, _text(v)) for k, v in row.items())).encode())
                else:
                    for row_id, version in sorted(versions.items()):
                        digest.update(f"{row_id}\0{version}\n".encode())
        except Exception as exc:  # as in list_documents: the driver's own errors
            return "unreadable:" + sha256_text(str(self._read_failed(exc)))
        return digest.hexdigest()

    def open(self, item: SourceItem) -> bytes:
        """The row's text (rows carry it as `text`)."""
        return (item.text or "").encode("utf-8")

    def available(self) -> bool:
        """True if the database answers."""
        try:
            with self._connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return True
        except Exception:  # as in list_documents: the driver's own errors
            return False


def _text(value: Any) -> str | None:
    """A value as stable text (datetimes as ISO-8601)."""
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _iso_or_none(value: str) -> str | None:
    """`value` as a UTC-aware ISO-8601 time (naive ones are taken as UTC), or None if not a time.

    Freshness subtracts it from an aware publish time, which a naive one would break.
    """
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _scalar(value: Any) -> Scalar:
    if isinstance(value, str | int | float | bool):
        return value
    return _text(value) or ""


def _groups(value: Any) -> tuple[str, ...] | None:
    """Groups from an array column or comma-separated text; NULL: the source's groups."""
    if value is None:
        return None
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(sorted({str(p).strip() for p in parts if str(p).strip()}))
