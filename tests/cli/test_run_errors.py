"""The root cause read from a log is the typed error, not a traceback's tail."""

from __future__ import annotations

import pytest

from rag_pipelines.run_errors import root_cause

# The shape of a real Dagster run log (tests/cli/test_cli_runs.py produces one end to end).
DAGSTER_LOG = """\
2026-12-01 10:47:30 +0000 - dagster - ERROR - __ASSET_JOB - STEP_FAILURE - chunks
dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "chunks":

The above exception was caused by the following exception:
rag_pipelines.errors.ModelLoadError: model 'org/m' is not cached and could not be downloaded

Stack Trace:
  File "/x/rag_pipelines/embedding/resolve.py", line 63, in _resolve_hub

The above exception was caused by the following exception:
huggingface_hub.errors.LocalEntryNotFoundError: Got: ConnectError: [Errno -2] Name unknown
httpcore2.ConnectError: [Errno -2] Name or service not known
"""
PYTHON_TRACEBACK = """\
Traceback (most recent call last):
  File "x.py", line 1, in <module>
    open("nope")
FileNotFoundError: [Errno 2] No such file or directory: 'nope'
"""


@pytest.mark.parametrize(
    ("log", "cause"),
    [
        (DAGSTER_LOG, "ModelLoadError: model 'org/m' is not cached and could not be downloaded"),
        (PYTHON_TRACEBACK, "FileNotFoundError: [Errno 2] No such file or directory: 'nope'"),
        ("all good\n", None),
    ],
)
def test_root_cause(log: str, cause: str | None) -> None:
    assert root_cause(log) == cause
