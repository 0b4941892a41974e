"""The metadata DB (SQLAlchemy: PostgreSQL in a cluster, SQLite on one machine).

It holds what many processes update at once and a file cannot: the live pointer, switched by
compare-and-set in one transaction, its history, and the embedding cache's vectors.
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, ProgrammingError

from rag_pipelines.errors import PublishRefusedError

TABLES = sa.MetaData()
LIVE = sa.Table(
    "rag_live",
    TABLES,
    sa.Column("pipeline", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("pointer", sa.Text, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
)
HISTORY = sa.Table(
    "rag_live_history",
    TABLES,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(64), nullable=False, index=True),
    sa.Column("pointer", sa.Text, nullable=False),
)
VECTORS = sa.Table(
    "rag_embedding_vectors",
    TABLES,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("text_hash", sa.String(128), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


class LivePointerConflict(PublishRefusedError):
    """Another run switched the live version first; this publish changed nothing."""


def engine_for(url: str) -> Engine:
    """One engine per URL per process, its tables created on first use."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            args = {"timeout": 60} if url.startswith("sqlite") else {}
            engine = sa.create_engine(url, pool_pre_ping=True, connect_args=args)
            _create_tables(engine)
            _ENGINES[url] = engine
        return engine


def _create_tables(engine: Engine) -> None:
    # Two processes creating the tables at once: the loser sees a duplicate and retries.
    for attempt in range(3):
        try:
            TABLES.create_all(engine, checkfirst=True)
            return
        except (IntegrityError, ProgrammingError):
            if attempt == 2:
                raise
            time.sleep(0.2)


class MetadataDB:
    """The live pointer of one pipeline, as a row switched by compare-and-set."""

    def __init__(self, url: str, pipeline: str) -> None:
        self.url = url
        self.pipeline = pipeline

    @property
    def engine(self) -> Engine:
        """The shared engine."""
        return engine_for(self.url)

    def live(self) -> str | None:
        """The live pointer's JSON, or None before the first publish."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(LIVE.c.pointer).where(LIVE.c.pipeline == self.pipeline)
            ).first()
        return None if row is None else str(row[0])

    def live_version(self) -> str | None:
        """The live version's id."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(LIVE.c.version).where(LIVE.c.pipeline == self.pipeline)
            ).first()
        return None if row is None else str(row[0])

    def switch_live(self, expected: str | None, version: str, pointer: str) -> None:
        """Make `version` live if `expected` still is (None: nothing is); else LivePointerConflict.

        One transaction: the conditional UPDATE (or the INSERT of the first pointer) and the
        history row commit together or not at all.
        """
        try:
            with self.engine.begin() as conn:
                if expected is None:
                    conn.execute(
                        sa.insert(LIVE).values(
                            pipeline=self.pipeline, version=version, pointer=pointer, revision=1
                        )
                    )
                else:
                    done = conn.execute(
                        sa.update(LIVE)
                        .where(LIVE.c.pipeline == self.pipeline, LIVE.c.version == expected)
                        .values(version=version, pointer=pointer, revision=LIVE.c.revision + 1)
                    )
                    if done.rowcount != 1:
                        raise _conflict(expected, version, self.live_version())
                conn.execute(sa.insert(HISTORY).values(pipeline=self.pipeline, pointer=pointer))
        except IntegrityError:
            raise _conflict(expected, version, self.live_version()) from None

    def history(self) -> list[str]:
        """Every pointer ever switched to, oldest first (JSON)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(HISTORY.c.pointer)
                .where(HISTORY.c.pipeline == self.pipeline)
                .order_by(HISTORY.c.id)
            )
            return [str(r[0]) for r in rows]


def _conflict(expected: str | None, version: str, actual: str | None) -> LivePointerConflict:
    return LivePointerConflict(
        f"version {version} not published: the live version is now {actual or 'none'}, not "
        f"{expected or 'none'} as when this publish started (another run published); run the "
        "build again so its checks compare against the new live version"
    )
