"""What every config model shares: strictness, and paths relative to the sources.yaml."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"  # source, set, experiment and model names


class StrictModel(BaseModel):
    """Unknown keys are errors and parsed config is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve_path(path: Path, info: ValidationInfo) -> Path:
    """An absolute path: relative ones resolve against the sources.yaml's folder."""
    base = (info.context or {}).get("base_dir")
    path = path.expanduser()
    if not path.is_absolute():
        path = Path(base or Path.cwd()) / path
    return path.resolve()
