"""Path safety for file sources: names that are refused, and where a link's content really is.

Decisions (see README, "Bad input"):
- A name that is not valid UTF-8 (os.walk hands it over with surrogate escapes) is quarantined
  as `UndecodableName` under an escaped id: it cannot be stored, matched or served faithfully.
- Names with other control characters (a newline, a tab) are indexed: globs match them
  (DOTALL), ids are JSON strings, and the service serves them (`%0A` in the URL).
- A file link inside the root is listed under its target's path, so access globs, include and
  exclude apply where the content lives and a file reached by two paths is one document.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HIDDEN_PREFIXES = (".", "~$")


class UnsafePath(ValueError):
    """A listed path that is refused; `kind` is the typed reason recorded in the quarantine."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def escaped(name: str) -> str:
    """A printable, lossless-for-display form of a name that may hold undecodable bytes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def check_name(rel: str) -> None:
    """Raise UnsafePath(UndecodableName) if `rel` holds bytes that are not UTF-8."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePath(
            "UndecodableName",
            f"refused: the name {escaped(rel)!r} is not valid UTF-8; rename the file "
            "(e.g. `convmv -f latin1 -t utf8`)",
        ) from None


@dataclass(frozen=True)
class Located:
    """Where a listed file's content is: its real path and its id (relative to the root)."""

    real: Path
    rel: str
    linked: bool


def locate(root: Path, path: Path) -> Located:
    """The real location of `path` (root must be resolved); OutsideRoot or HiddenTarget if bad."""
    real = path.resolve(strict=True)
    if not real.is_relative_to(root):
        raise UnsafePath("OutsideRoot", f"refused: resolves outside the source root ({real})")
    rel = real.relative_to(root).as_posix()
    check_name(rel)
    linked = real != path
    if linked and any(part.startswith(HIDDEN_PREFIXES) for part in rel.split("/")):
        raise UnsafePath("HiddenTarget", f"refused: a link to a hidden file ({rel})")
    return Located(real=real, rel=rel, linked=linked)
