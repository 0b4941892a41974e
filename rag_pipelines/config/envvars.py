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
        self.reason = (
            f"environment variable ${{{name}}} is not set (set it, or write ${{{name}:-default}})"
        )
        super().__init__(f"{where}: {self.reason}" if where else self.reason)


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
        # As in POSIX shells and Compose, `:-` also replaces a variable that is set but empty.
        if env.get(name) or (name in env and default is None):
            return env[name]
        if default is not None:
            return default
        raise MissingEnvVar(name, where)

    return _PATTERN.sub(replace, escaped).replace("\0", "${")


def find_missing(value: Any, env: Mapping[str, str], where: str = "") -> list[MissingEnvVar]:
    """Every unset variable in a nested structure (so all are reported, not just the first)."""
    if isinstance(value, str):
        return [
            MissingEnvVar(m.group(1), where)
            for m in _PATTERN.finditer(value.replace("$${", "\0"))
            if m.group(1) not in env and m.group(2) is None
        ]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in find_missing(v, env, f"{where}[{i}]")]
    if isinstance(value, dict):
        return [
            m
            for k, v in value.items()
            for m in find_missing(v, env, f"{where}.{k}" if where else str(k))
        ]
    return []
