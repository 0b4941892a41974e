"""What every config model shares: strictness, and paths relative to the sources.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

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


def existing_file(path: Path, info: ValidationInfo) -> Path:
    """The resolved path of a file that must exist (queries, qrels)."""
    path = resolve_path(path, info)
    if not path.is_file():
        raise ValueError(f"file does not exist: {path}")
    return path


ExistingFile = Annotated[Path, AfterValidator(existing_file)]
