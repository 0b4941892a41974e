"""`${VAR}` and `${VAR:-default}` interpolation in configuration values."""

import re
from collections.abc import Mapping
from typing import Any

_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class MissingEnvVar(ValueError):
    """An interpolated variable is unset and has no default."""

    def __init__(self, name: str, where: str) -> None:
        self.name = name
        self.where = where
        super().__init__(
            f"{where}: environment variable ${{{name}}} is not set "
            f"(set it, or write ${{{name}:-default}})"
        )


def interpolate(value: Any, env: Mapping[str, str], where: str = "") -> Any:
    """Replace `${VAR}` in every string of a nested structure; `$${` escapes a literal `${`."""
    if isinstance(value, str):
        return _interpolate_str(value, env, where)
    if isinstance(value, list):
        return [interpolate(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            k: interpolate(v, env, f"{where}.{k}" if where else str(k)) for k, v in value.items()
        }
    return value


def _interpolate_str(text: str, env: Mapping[str, str], where: str) -> str:
    escaped = text.replace("$${", "\0")

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MissingEnvVar(name, where)

    return _PATTERN.sub(replace, escaped).replace("\0", "${")


def find_missing(value: Any, env: Mapping[str, str], where: str = "") -> list[MissingEnvVar]:
    """Every unset variable in a nested structure (so all are reported, not just the first)."""
    if isinstance(value, str):
        try:
            _interpolate_str(value, env, where)
        except MissingEnvVar as exc:
            return [exc]
        return []
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in find_missing(v, env, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [
            m
            for k, v in value.items()
            for m in find_missing(v, env, f"{where}.{k}" if where else str(k))
        ]
    return []
