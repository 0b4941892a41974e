"""Loading a package of plugins by name: each module registers itself when imported.

The registries (legs, rerankers) sit in the config layer, below their implementations; they
import the implementations' package by name on first use, so nothing here imports upward.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection
from typing import Any


def import_plugins(
    package_name: str,
    skip: Collection[str] = ("base",),
    order: Callable[[str], Any] = str,
) -> None:
    """Import every module of `package_name` except `skip`, sorted by `order` of its name."""
    package = importlib.import_module(package_name)
    names = [info.name for info in pkgutil.iter_modules(package.__path__)]
    for name in sorted((n for n in names if n not in skip), key=order):
        importlib.import_module(f"{package_name}.{name}")
