"""The connector registry: built-ins, third parties by entry point, unknown types named."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag_pipelines.config import known_types, load_sources_file
from rag_pipelines.config.connectors import BUILTIN, _entry_points, connector_class
from rag_pipelines.errors import ConfigError
from rag_pipelines.ingest.connectors import Connector, as_connector
from rag_pipelines.ingest.ingestion import ingest_source

NOTES_MODULE = '''
"""A third-party connector: one note per line of a text file."""

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from rag_pipelines.config.connectors import ConnectorSettings
from rag_pipelines.hashing import sha256_text
from rag_pipelines.ingest.connectors import Listing, SourceItem
from rag_pipelines.ingest.models import Document


class NotesConnector(ConnectorSettings):
    type: Literal["notes"]
    file: Path

    def list_documents(self, source: str, previous: Mapping[str, Document]) -> Listing:
        lines = self.file.read_text().splitlines()
        items = [
            SourceItem(id=f"note-{i}", uri=f"{self.file.as_uri()}#{i}",
                       content_hash=sha256_text(line), modified_at=None,
                       size_bytes=len(line), title=f"Note {i}", text=line)
            for i, line in enumerate(lines, start=1) if line.strip()
        ]
        return Listing(items=items, failures=[])

    def signature(self) -> str:
        return sha256_text(self.file.read_text())

    def open(self, item: SourceItem) -> bytes:
        return (item.text or "").encode()

    def available(self) -> bool:
        return self.file.is_file()
'''


@pytest.fixture
def notes_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An installed distribution (dist-info on sys.path) registering `notes` by entry point."""
    site = tmp_path / "site"
    dist = site / "notes_connector-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: notes-connector\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[rag_pipelines.connectors]\nnotes = notes_connector:NotesConnector\n"
    )
    (site / "notes_connector.py").write_text(textwrap.dedent(NOTES_MODULE))
    monkeypatch.syspath_prepend(str(site))
    _entry_points.cache_clear()
    yield
    _entry_points.cache_clear()


def test_builtins_implement_the_protocol() -> None:
    """Every built-in type loads to a class with the Connector methods."""
    for name in BUILTIN:
        cls = connector_class(name)
        assert all(callable(getattr(cls, m, None)) for m in ("list_documents", "signature", "open"))
    assert set(BUILTIN) <= set(known_types())


def test_third_party_connector_by_entry_point(notes_plugin: None, tmp_path: Path) -> None:
    """A connector from another distribution is found by its entry point and ingests."""
    (tmp_path / "notes.txt").write_text("Backups run nightly.\nLunch is at noon.\n")
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: notes\n    connector:\n      type: notes\n      file: x\n")
    path.write_text(path.read_text().replace("file: x", f"file: {tmp_path / 'notes.txt'}"))
    assert "notes" in known_types()
    source = load_sources_file(path, env={}).sources[0]
    assert isinstance(as_connector(source.connector), Connector)
    report = ingest_source(source, {})
    assert report.added == ["note-1", "note-2"]


def test_third_party_settings_are_validated(notes_plugin: None, tmp_path: Path) -> None:
    """A third-party connector's own fields are checked, with the line and a suggestion."""
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: notes\n    connector:\n      type: notes\n      fil: x\n")
    with pytest.raises(ConfigError) as caught:
        load_sources_file(path, env={})
    assert "source 'notes' → connector.fil (line 5): unknown key 'fil' (did you mean 'file'?)" in (
        str(caught.value)
    )


def test_unknown_type_names_the_known_ones(tmp_path: Path) -> None:
    """Regression: anything not `filesystem` was listed as BEIR by a silent else branch."""
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: a\n    connector:\n      type: dropbox\n      path: x\n")
    with pytest.raises(ConfigError) as caught:
        load_sources_file(path, env={})
    message = str(caught.value)
    assert "source 'a' → connector.type (line 4): unknown connector type 'dropbox'" in message
    assert "known types: beir, filesystem, object_storage, sql, web" in message
