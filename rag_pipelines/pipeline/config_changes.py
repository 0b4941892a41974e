"""sources.yaml as it is now, against the copy a long-running code location loaded.

A Dagster code location reads sources.yaml once, when it loads its definitions; every run it
launches loads the file again. So settings that runs read (the model, chunking, retrieval, a
source's root and globs) take effect on the next run, and the sensors read the file on every
tick to decide as those runs will. What shapes the definitions themselves (the partitions,
the opt-in assets, the sensors' intervals, the schedule, the pipeline's name and data dir) only
changes with a reload; until then `reload_reasons` says what differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_pipelines.config.loader import load_sources_file
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.errors import ConfigError
from rag_pipelines.shards import partition_keys

RELOAD_HINT = (
    "reload the code location to apply it (UI: Deployment → Reload definitions; or restart "
    "the code server / `make dev`)"
)


@dataclass(frozen=True)
class CurrentConfig:
    """The file as it is now: its config when it validates and needs no reload, else why not."""

    config: SourcesFile | None
    problem: str | None = None


def definition_shape(config: SourcesFile) -> dict[str, Any]:
    """The parts of sources.yaml that the Dagster definitions are built from."""
    return {
        "pipeline name": config.pipeline.name,
        "data dir": str(config.pipeline.data_dir),
        "partitions": partition_keys(config.sources),
        "experiments": bool(config.evaluation.experiments),
        "embedding finetune": config.embedding.finetune is not None,
        "fusion tuning": config.evaluation.tune_fusion,
        "schedule": config.pipeline.schedule.model_dump(mode="json"),
        "sensor intervals": config.pipeline.sensors.model_dump(mode="json"),
        "freshness": [config.freshness_for(s).max_lag_hours for s in config.sources],
    }


def reload_reasons(loaded: SourcesFile, current: SourcesFile) -> list[str]:
    """What differs between the loaded and the current file that only a reload applies."""
    before, after = definition_shape(loaded), definition_shape(current)
    reasons = []
    for name, old in before.items():
        new = after[name]
        if old == new:
            continue
        if name == "partitions":
            added = [k for k in new if k not in old]
            removed = [k for k in old if k not in new]
            change = [f"added {', '.join(added)}"] if added else []
            change += [f"removed {', '.join(removed)}"] if removed else []
            reasons.append("partitions " + ", ".join(change or ["reordered"]))
        else:
            reasons.append(f"{name} {old!r} → {new!r}")
    return reasons


def read_current(path: Path, loaded: SourcesFile) -> CurrentConfig:
    """Re-read sources.yaml: its config, or the problem (invalid, or a reload is needed)."""
    try:
        current = load_sources_file(path)
    except ConfigError as exc:
        return CurrentConfig(
            None,
            f"{path} no longer validates, so nothing is requested until it does "
            f"(runs would fail to load it):\n{exc}",
        )
    reasons = reload_reasons(loaded, current)
    if reasons:
        return CurrentConfig(
            None,
            f"{path} changed since the definitions were loaded ({'; '.join(reasons)}): "
            f"{RELOAD_HINT}. Nothing is requested until then.",
        )
    return CurrentConfig(current)
