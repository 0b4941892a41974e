"""Launch Dagster runs of this pipeline as subprocesses on its own instance (DAGSTER_HOME).

The CLI goes through Dagster so that CLI runs appear in the UI with their metadata and checks,
exactly as scheduled or UI-launched runs do; this module only builds and watches the commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.config.loader import SOURCES_ENV
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.workspace import Workspace

PER_SOURCE_ASSETS = "documents,chunks,embeddings"
CORPUS_ASSETS = (
    "feedback,corpus_snapshot,vector_index,bm25_index,graph_index,candidate_index,reranker,"
    "published_index"
)
_STEP = re.compile(r'(Started execution of step|Finished execution of step) "([^"]+)"')
_FAILED = re.compile(r'STEP_FAILURE|Execution of step "([^"]+)" failed')


@dataclass(frozen=True)
class RunSpec:
    """One Dagster run: a label for humans and the asset selection."""

    label: str
    select: str
    partition: str | None = None


@dataclass
class RunOutcome:
    """How a run ended."""

    spec: RunSpec
    ok: bool
    log_path: Path
    tail: str


OPT_IN_ASSETS = ("experiments", "embedding_finetune")


def plan_runs(source_names: list[str], opt_in: tuple[str, ...] = ()) -> list[RunSpec]:
    """Per-source runs (one partition each), the corpus-wide build-and-publish run, then each
    requested opt-in asset (experiments, embedding_finetune) as a run of its own."""
    unknown = sorted(set(opt_in) - set(OPT_IN_ASSETS))
    if unknown:
        raise ValueError(f"not opt-in assets: {unknown}; they are {list(OPT_IN_ASSETS)}")
    runs = [RunSpec(f"ingest {name}", PER_SOURCE_ASSETS, name) for name in source_names]
    runs.append(RunSpec("build and publish index", CORPUS_ASSETS))
    runs.extend(RunSpec(name.replace("_", " "), name) for name in opt_in)
    return runs


def missing_opt_in(opt_in: tuple[str, ...], config: SourcesFile) -> list[str]:
    """The requested opt-in assets that sources.yaml does not declare, with the key to add."""
    needs = {
        "experiments": (bool(config.evaluation.experiments), "evaluation.experiments"),
        "embedding_finetune": (config.embedding.finetune is not None, "embedding.finetune"),
    }
    return [
        f"{name} needs {needs[name][1]} in sources.yaml" for name in opt_in if not needs[name][0]
    ]


def dagster_env(workspace: Workspace, sources_path: Path) -> dict[str, str]:
    """Environment for a run: this pipeline's DAGSTER_HOME and sources file, offline-friendly."""
    env = dict(os.environ)
    home = Path(env.get("DAGSTER_HOME") or workspace.dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # SQLite storage under home is Dagster's default; no telemetry
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env["DAGSTER_HOME"] = str(home.resolve())
    env[SOURCES_ENV] = str(sources_path.resolve())
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    return env


def command(spec: RunSpec) -> list[str]:
    """The `dagster asset materialize` command line for a run."""
    cmd = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "assets",
        "--select",
        spec.select,
    ]
    if spec.partition is not None:
        cmd += ["--partition", spec.partition]
    return cmd


def execute(
    spec: RunSpec,
    env: dict[str, str],
    log_path: Path,
    on_step: Callable[[str, str], None] | None = None,
) -> RunOutcome:
    """Run one materialization, streaming Dagster's log to a file and step events to `on_step`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            command(spec),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            lines.append(line)
            del lines[:-200]
            match = _STEP.search(line)
            if match and on_step is not None:
                on_step("start" if match.group(1).startswith("Started") else "done", match.group(2))
        code = proc.wait()
    tail = "".join(lines[-40:])
    failed = code != 0 or bool(_FAILED.search("".join(lines)))
    return RunOutcome(spec=spec, ok=not failed, log_path=log_path, tail=tail)
