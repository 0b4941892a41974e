"""The root cause in a log: the typed rag_pipelines error, not a traceback's tail.

The launcher reports a failed run's cause from Dagster's events (assets/run_events.py); this
reads the launcher's own log when it died before it could (an import error, a crash)."""

from __future__ import annotations

import re

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
