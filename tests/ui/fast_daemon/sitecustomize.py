"""Loaded by every process of the UI test's `dagster dev` (this folder leads its PYTHONPATH).

Dagster's backfill daemon looks at a backfill every 30 s (a constant, not an instance
setting): "Materialize all" took two such waits after its last run (submit the corpus-wide
run, then mark the backfill done). This shortens the loop to 2 s; nothing else changes, and
if Dagster moves the constant the hook does nothing (the test only waits longer).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

TARGET = "dagster._daemon.controller"
INTERVAL_S = 2


class _ShortDaemonLoop(importlib.abc.MetaPathFinder):
    """Sets the daemon loop interval right after Dagster's controller module is executed."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != TARGET:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            if hasattr(module, "DEFAULT_DAEMON_INTERVAL_SECONDS"):
                module.DEFAULT_DAEMON_INTERVAL_SECONDS = INTERVAL_S

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _ShortDaemonLoop())
