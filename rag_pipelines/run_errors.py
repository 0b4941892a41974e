"""A failed run as one line: its root cause (the typed error, not a traceback's tail) and log."""

from __future__ import annotations

import re
from pathlib import Path

# "pkg.module.SomeError: message", as Python and Dagster print a raised exception.
_EXCEPTION = re.compile(
    r"^\s*(?P<type>(?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Refused|Busy|NotFound))"
    r"(?::\s*(?P<message>.*))?$"
)
_WRAPPERS = ("dagster.", "dagster_", "Dagster")


def root_cause(log_text: str) -> str | None:
    """The error a user should read first: the first rag_pipelines error, else the first other.

    Typed rag_pipelines errors say what to do; the exceptions chained under them (a network
    error under a ModelLoadError) and Dagster's wrappers around them do not.
    """
    found: list[tuple[str, str]] = []
    for line in log_text.splitlines():
        match = _EXCEPTION.match(line)
        if match is not None and not match["type"].startswith(_WRAPPERS):
            name = match["type"].rsplit(".", 1)[-1]
            found.append(
                (match["type"], f"{name}: {match['message']}" if match["message"] else name)
            )
    ours = [text for kind, text in found if kind.startswith("rag_pipelines.")]
    first = ours or [text for _, text in found]
    return first[0] if first else None


def failure_line(label: str, log_path: Path) -> str:
    """'<label> failed: <root cause> (full log: <path>)'."""
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    cause = root_cause(text) or "see the log"
    return f"{label} failed: {cause} (full log: {log_path})"
