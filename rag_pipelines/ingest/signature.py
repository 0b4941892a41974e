"""A cheap fingerprint of what a source holds now (names, sizes, times; no file is read).

Sensors compare it with the signature of the last ingest to decide whether a source changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from rag_pipelines.config.models import BeirConnector, SourceConfig
from rag_pipelines.ingest.connectors.filesystem import SKIPPED_NAMES
from rag_pipelines.ingest.globs import matches


def listing_signature(source: SourceConfig) -> str:
    """sha256 over (relative path, size, mtime) of every selected file, in order."""
    digest = hashlib.sha256()
    connector = source.connector
    if isinstance(connector, BeirConnector):
        stat = (connector.path / "corpus.jsonl").stat()
        digest.update(f"corpus.jsonl\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        digest.update(repr((connector.limit, connector.ids)).encode())
        return digest.hexdigest()
    root = connector.root.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if (
                name.startswith((".", "~$"))
                or name in SKIPPED_NAMES
                or not matches(rel, connector.include, connector.exclude)
            ):
                continue
            try:
                stat = path.stat()
            except OSError:
                digest.update(f"{rel}\0missing\n".encode())
                continue
            digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
