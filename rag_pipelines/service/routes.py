"""URL path conversion for document ids, which may hold any character but NUL."""

from __future__ import annotations

from starlette.convertors import CONVERTOR_TYPES, PathConvertor, register_url_convertor

ANY_PATH = "anypath"


class AnyPathConvertor(PathConvertor):
    """Starlette's `path`, newlines included (its `.*` is compiled without DOTALL)."""

    regex = "(?s:.*)"


def register_convertors() -> None:
    """Make `{name:anypath}` usable in routes (idempotent)."""
    if ANY_PATH not in CONVERTOR_TYPES:
        register_url_convertor(ANY_PATH, AnyPathConvertor())
