"""Versioned builds: allocate, complete, gate, publish atomically, keep N, collect the rest."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rag_pipelines.errors import IndexNotFoundError, PublishRefusedError
from rag_pipelines.index.manifest import BuildManifest, CheckRecord, LivePointer, Pin
from rag_pipelines.state import LocalStateStore, PipelineState
from rag_pipelines.storage import atomic_write_json, atomic_write_text, read_json
from rag_pipelines.workspace import Workspace

MANIFEST = "manifest.json"
CHECKS = "checks.json"
HISTORY = "history.jsonl"


def utc_now() -> str:
    """Current UTC time, ISO-8601."""
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds")


class VersionRegistry:
    """Index versions of one pipeline in `<data_dir>/index`.

    A build folder becomes a version when its manifest is written (last, atomically); the live
    version is whatever LIVE.json names, replaced with an atomic rename. A reader that reads
    LIVE.json once per query therefore always sees one complete version.

    With shared state (`pipeline.state`), the object store holds the versions (a folder is
    uploaded manifest last, so it is complete or absent there too; the data dir caches what this
    machine reads) and the metadata DB holds the live pointer, switched by compare-and-set.
    """

    def __init__(self, workspace: Workspace, state: PipelineState | None = None) -> None:
        self.workspace = workspace
        self.state = state or PipelineState(LocalStateStore(workspace.root))
        self._root = workspace.root

    def allocate(self) -> str:
        """A new, unique, chronologically sortable version id with its (empty) folder."""
        self.workspace.builds_dir.mkdir(parents=True, exist_ok=True)
        while True:
            now = datetime.now(tz=UTC)
            version = now.strftime("v%Y%m%dT%H%M%S") + f"-{now.microsecond:06d}"
            try:
                self.workspace.build_dir(version).mkdir()
                return version
            except FileExistsError:
                continue

    def complete(self, manifest: BuildManifest) -> None:
        """Write the manifest: from now on the version exists."""
        path = self.workspace.build_dir(manifest.version) / MANIFEST
        atomic_write_text(path, manifest.model_dump_json(indent=2) + "\n")
        self.state.store.upload_last(self.version_prefixes(manifest.version), self._key(path))

    def manifest(self, version: str) -> BuildManifest:
        """The manifest of a complete version."""
        path = self.workspace.build_dir(version) / MANIFEST
        if not path.exists() and not self.state.store.download(self._key(path)):
            raise IndexNotFoundError(f"version {version} does not exist or is incomplete")
        return BuildManifest.model_validate_json(path.read_text(encoding="utf-8"))

    def versions(self) -> list[str]:
        """Complete versions, oldest first."""
        if self.state.store.remote:
            store, prefix = self.state.store, self._key(self.workspace.builds_dir)
            return [v for v in store.children(prefix) if store.exists(f"{prefix}/{v}/{MANIFEST}")]
        root = self.workspace.builds_dir
        if not root.exists():
            return []
        return sorted(p.name for p in root.iterdir() if (p / MANIFEST).exists())

    def incomplete(self) -> list[str]:
        """Build folders without a manifest (crashed or in progress), here or in the store."""
        root = self.workspace.builds_dir
        local = (
            {p.name for p in root.iterdir() if p.is_dir() and not (p / MANIFEST).exists()}
            if root.exists()
            else set()
        )
        if self.state.store.remote:
            store, prefix = self.state.store, self._key(root)
            local |= {
                v for v in store.children(prefix) if not store.exists(f"{prefix}/{v}/{MANIFEST}")
            }
        return sorted(local)

    def discard(self, version: str) -> None:
        """Delete an incomplete build's files, here and in the store (its collections aside)."""
        for prefix in self.version_prefixes(version, remote=True):
            self.state.store.delete(prefix)
        shutil.rmtree(self.workspace.build_dir(version), ignore_errors=True)

    def record_check(self, version: str, record: CheckRecord) -> None:
        """Store a blocking check's verdict for a version."""
        path = self.workspace.build_dir(version) / CHECKS
        self.state.store.download(self._key(path))  # verdicts other machines recorded
        current = read_json(path) if path.exists() else {}
        current[record.name] = record.model_dump()
        atomic_write_json(path, current)
        self.state.store.upload(self._key(path))

    def checks(self, version: str) -> dict[str, CheckRecord]:
        """Verdicts recorded for a version."""
        path = self.workspace.build_dir(version) / CHECKS
        if self.state.store.remote:  # a check step on another machine may have added one
            self.state.store.download(self._key(path))
        if not path.exists():
            return {}
        return {k: CheckRecord.model_validate(v) for k, v in read_json(path).items()}

    def live(self) -> LivePointer | None:
        """The published version, if any."""
        if self.state.db is not None:
            text = self.state.db.live()
            return None if text is None else LivePointer.model_validate_json(text)
        path = self.workspace.live_pointer
        if not path.exists():
            return None
        return LivePointer.model_validate_json(path.read_text(encoding="utf-8"))

    def live_manifest(self) -> BuildManifest:
        """The manifest of the published version."""
        pointer = self.live()
        if pointer is None:
            raise IndexNotFoundError("no index is published yet; run `rag-pipelines materialize`")
        return self.manifest(pointer.version)

    def ensure_publishable(self, version: str, required_checks: list[str]) -> None:
        """Raise PublishRefusedError unless `version` is complete and its checks passed."""
        self.manifest(version)
        verdicts = self.checks(version)
        problems = [
            f"check {name} failed: {verdicts[name].detail}"
            if name in verdicts
            else f"check {name} has not run"
            for name in required_checks
            if name not in verdicts or not verdicts[name].passed
        ]
        if problems:
            raise PublishRefusedError(f"version {version} not published: " + "; ".join(problems))

    def point_live(
        self,
        version: str,
        staleness: dict[str, float] | None = None,
        rollback: bool = False,
        run_id: str = "",
        expected: LivePointer | Literal["current"] | None = "current",
        pin: Pin | None = None,
    ) -> LivePointer:
        """Atomically switch the live pointer to a complete version (also used by rollback).

        `expected` is the pointer the caller decided against: with a metadata DB the switch is a
        compare-and-set from that version, and LivePointerConflict if another run moved it.
        """
        self.manifest(version)
        current = self.live() if expected == "current" else expected
        pointer = LivePointer(
            version=version,
            published_at=utc_now(),
            previous=(
                current.version
                if current and current.version != version
                else (current.previous if current else None)
            ),
            staleness=staleness or {},
            rollback=rollback,
            run_id=run_id,
            pin=pin,
        )
        return self._write_live(pointer, current)

    def unpin(self, expected: LivePointer) -> LivePointer:
        """The live pointer without its pin (same version), switched from `expected`."""
        return self._write_live(expected.model_copy(update={"pin": None}), expected)

    def _write_live(self, pointer: LivePointer, current: LivePointer | None) -> LivePointer:
        if self.state.db is not None:
            previous = current.version if current else None
            self.state.db.switch_live(previous, pointer.version, pointer.model_dump_json())
            return pointer
        atomic_write_text(self.workspace.live_pointer, pointer.model_dump_json(indent=2) + "\n")
        _append_line(self.workspace.index_dir / HISTORY, pointer.model_dump_json())
        return pointer

    def history(self) -> list[LivePointer]:
        """Every publish and rollback, oldest first."""
        if self.state.db is not None:
            return [LivePointer.model_validate_json(t) for t in self.state.db.history()]
        path = self.workspace.index_dir / HISTORY
        if not path.exists():
            return []
        pointers: list[LivePointer] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                pointers.append(LivePointer.model_validate_json(line))
            except ValueError:  # a line torn by a crash mid-append; LIVE.json is the truth
                continue
        return pointers

    def collectable(self, retention: int, keep: set[str] | None = None) -> list[str]:
        """Versions beyond the newest `retention` that are neither live nor in `keep`."""
        keep = set(keep or ())
        pointer = self.live()
        if pointer is not None:
            keep.add(pointer.version)
        complete = self.versions()
        kept = set(complete[-retention:]) | keep
        return [v for v in complete if v not in kept]

    def retire(self, version: str) -> None:
        """Turn a version back into an incomplete build (manifest gone), ready to delete."""
        self._refuse_live(version)
        manifest = self.workspace.build_dir(version) / MANIFEST
        self.state.store.delete(self._key(manifest))  # the shared copy first: nobody pulls it
        manifest.unlink(missing_ok=True)

    def remove(self, version: str) -> None:
        """Delete a version's folder (never the live one), manifest first."""
        self.retire(version)
        for prefix in self.version_prefixes(version, remote=True):
            self.state.store.delete(prefix)
        shutil.rmtree(self.workspace.build_dir(version), ignore_errors=True)

    def _refuse_live(self, version: str) -> None:
        pointer = self.live()
        if pointer is not None and pointer.version == version:
            raise PublishRefusedError(f"refusing to delete the live version {version}")

    def build_path(self, version: str) -> Path:
        """The folder of a version."""
        return self.workspace.build_dir(version)

    def fetch(self, version: str) -> None:
        """Bring a version's files (build folder, Edge shards) into the local cache."""
        for prefix in self.version_prefixes(version, remote=True):
            self.state.store.pull(prefix)

    def version_prefixes(self, version: str, remote: bool = False) -> list[str]:
        """The state prefixes of a version: its build folder and its Qdrant Edge shards.

        Shards are named after their collection, which ends in the version id (or its `_bm25`).
        """
        edge = self._key(self.workspace.edge_dir)
        names = (
            self.state.store.children(edge)
            if remote
            else [p.name for p in self.workspace.edge_dir.glob("*") if p.is_dir()]
        )
        shards = [f"{edge}/{n}/" for n in names if n.endswith((version, f"{version}_bm25"))]
        return [f"{self._key(self.workspace.build_dir(version))}/", *shards]

    def _key(self, path: Path) -> str:
        return path.relative_to(self._root).as_posix()


def _append_line(path: Path, line: str) -> None:
    """Append one line, first ending a line a crash left torn so the two are not glued."""
    with path.open("a+b") as handle:
        if handle.seek(0, 2) > 0:
            handle.seek(-1, 2)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(line.encode("utf-8") + b"\n")
