"""Follow a run's event log and report it as JSON lines (what `rag-pipelines` reads)."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

from rag_pipelines.progress import ProgressUpdate

_STEP_EVENTS = {
    dg.DagsterEventType.STEP_START: "step_start",
    dg.DagsterEventType.STEP_SUCCESS: "step_done",
    dg.DagsterEventType.STEP_FAILURE: "step_failed",
    dg.DagsterEventType.ASSET_MATERIALIZATION: "materialized",
    dg.DagsterEventType.ASSET_CHECK_EVALUATION: "check",
}
_END = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def emit(kind: str, label: str, **fields: Any) -> None:
    """One progress line on stdout."""
    print(json.dumps({"type": kind, "label": label, **fields}, default=str), flush=True)


def root_cause(error: SerializableErrorInfo) -> str:
    """The error to read first, as `Type: first line of its message`: the outermost typed
    rag_pipelines error of the chain (it says what to do; a network error under a
    ModelLoadError does not), else the innermost error."""
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    ours = [e for e in chain if e.message.lstrip().startswith("rag_pipelines.")]
    error = ours[0] if ours else chain[-1]
    lines = error.message.strip().splitlines() or [""]
    if not error.cls_name:
        return lines[0]
    # Python prints `module.Class: message` for classes outside builtins.
    message = re.sub(rf"^(?:[\w.]+\.)?{re.escape(error.cls_name)}: ", "", lines[0])
    return f"{error.cls_name}: {message}"


def _error_of(event: dg.DagsterEvent) -> SerializableErrorInfo | None:
    data = event.event_specific_data
    return getattr(data, "error", None) if data is not None else None


class Follower:
    """Reads one run's new events on each poll and reports them; remembers the first failure."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, label: str) -> None:
        self.instance = instance
        self.run_id = run_id
        self.label = label
        self.cursor: str | None = None
        self.status: dg.DagsterRunStatus | None = None
        self.cause: str | None = None
        self.done = False

    @property
    def succeeded(self) -> bool:
        """True once the run ended in success."""
        return self.status == dg.DagsterRunStatus.SUCCESS

    def poll(self) -> None:
        """Report events since the last poll; report the end once the run ended."""
        if self.done:
            return
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=200)
            for record in page.records:
                self._report(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                break
        run = self.instance.get_run_by_id(self.run_id)
        status = run.status if run else None
        if status != self.status and status is not None:
            self.status = status
            emit("status", self.label, run_id=self.run_id, status=status.value)
        if status in _END:
            self.finish()

    def finish(self) -> None:
        """Report how the run ended (once)."""
        if self.done:
            return
        self.poll_status_only()
        self.done = True
        emit(
            "end",
            self.label,
            run_id=self.run_id,
            status=self.status.value if self.status else "UNKNOWN",
            root_cause=None if self.succeeded else (self.cause or "the run did not succeed"),
        )

    def poll_status_only(self) -> None:
        """Drain the last events and read the final status."""
        page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=1000)
        for record in page.records:
            self._report(record.event_log_entry)
        self.cursor = page.cursor
        run = self.instance.get_run_by_id(self.run_id)
        self.status = run.status if run else None

    def _report(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            level = (
                entry.level if isinstance(entry.level, int) else logging.getLevelName(entry.level)
            )
            if isinstance(level, int) and level >= logging.WARNING:  # the assets' warnings
                emit("log", self.label, step=entry.step_key, message=entry.user_message)
            elif (update := ProgressUpdate.parse(entry.user_message)) is not None:
                emit(
                    "progress",
                    self.label,
                    step=entry.step_key,
                    message=entry.user_message,
                    stage=update.stage,
                    done=update.done,
                    total=update.total,
                    rate=update.rate,
                    eta_s=update.eta_s,
                )
            return
        error = _error_of(event)
        if error is not None and self.cause is None:
            where = f"{event.step_key}: " if event.step_key else ""
            self.cause = where + root_cause(error)
        kind = _STEP_EVENTS.get(event.event_type)
        if kind is None and error is None:
            return
        fields: dict[str, Any] = {"step": event.step_key, "message": entry.user_message}
        if error is not None:
            fields["error"] = error.to_string()
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            fields.update(check=data.check_name, passed=data.passed)
            # A check that measured nothing (WARN) does not stop a run: never its cause.
            error_severity = data.severity == dg.AssetCheckSeverity.ERROR
            if not data.passed and data.blocking and error_severity and self.cause is None:
                why = data.description or "failed"
                self.cause = f"check {data.check_name} on {data.asset_key.to_user_string()}: {why}"
        emit(kind or "error", self.label, run_id=self.run_id, **fields)
