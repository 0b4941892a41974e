"""Load sources.yaml: YAML, `${VAR}` interpolation, validation, and readable errors."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import BaseModel, ValidationError

from rag_pipelines.config.connectors import UnknownConnector, connector_class
from rag_pipelines.config.envvars import find_missing, interpolate
from rag_pipelines.config.models import SourcesFile
from rag_pipelines.errors import ConfigError

DEFAULT_SOURCES = "sources.yaml"
SOURCES_ENV = "RAG_SOURCES"


def default_sources_path(env: Mapping[str, str] | None = None) -> Path:
    """The sources.yaml to use: $RAG_SOURCES, else ./sources.yaml."""
    env = os.environ if env is None else env
    return Path(env.get(SOURCES_ENV) or DEFAULT_SOURCES)


def load_sources_file(path: str | Path, env: Mapping[str, str] | None = None) -> SourcesFile:
    """Parse and validate a sources.yaml; raise ConfigError listing every problem."""
    path = Path(path)
    env = os.environ if env is None else env
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), [f"not UTF-8 text (a bad byte at offset {exc.start}): save it as UTF-8"]
        ) from None
    return parse_sources(text, path, env)


def parse_sources(text: str, path: Path, env: Mapping[str, str]) -> SourcesFile:
    """Validate YAML text as a SourcesFile; relative paths resolve against path's folder."""
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [_yaml_problem(exc)]) from exc
    except RecursionError:
        raise ConfigError(str(path), ["not a sources file: nested too deeply to read"]) from None
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["the file must be a mapping with a `sources:` list"])

    # Unset variables are reported with every other problem: each stays as its literal
    # `${NAME}` for validation, and errors at its own location are left to the variable's line.
    missing = find_missing(raw, env)
    problems = [_describe(_split(m.where), raw, root, m.reason) for m in missing]
    unset = [_split(m.where) for m in missing]
    data = interpolate(raw, {**env, **{m.name: f"${{{m.name}}}" for m in missing}})
    data.setdefault("pipeline", {})
    context = {"base_dir": path.resolve().parent}
    try:
        config = SourcesFile.model_validate(data, context=context)
    except ValidationError as exc:
        problems += [
            _describe(err["loc"], raw, root, _message(err, raw))
            for err in exc.errors()
            if not any(_within(where, tuple(err["loc"])) for where in unset)
        ]
        raise ConfigError(str(path), problems) from exc
    if problems:
        raise ConfigError(str(path), problems)
    return config


def _within(where: tuple[str | int, ...], loc: tuple[Any, ...]) -> bool:
    """Whether `loc` (with pydantic's discriminator tags) points at or below `where`."""
    rest = iter(loc)
    return all(any(part == step for step in rest) for part in where)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'not valid YAML (line 3, column 4): <problem> (<context>)', without PyYAML's stream name."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        return f"not valid YAML: {exc}"
    mark = exc.problem_mark
    context = f" ({exc.context})" if exc.context else ""
    return (
        f"not valid YAML (line {mark.line + 1}, column {mark.column + 1}): {exc.problem}{context}"
    )


def _split(where: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for piece in where.replace("]", "").replace("[", ".").split("."):
        if piece:
            parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def _message(err: Mapping[str, Any], raw: Any) -> str:
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        hint = _suggest(key, err["loc"], raw)
        return f"unknown key {key!r}{hint}"
    if err["type"] == "missing":
        return "required but missing"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _suggest(key: str, loc: tuple[Any, ...], raw: Any) -> str:
    model: type[BaseModel] | None = SourcesFile
    value = raw
    for part in loc[:-1]:
        value = _child(value, part)
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = None if field is None else _model_of(field.annotation)
        if part == "connector" and isinstance(value, dict):
            model = _connector_model(value.get("type"))
    if model is None:
        return ""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _connector_model(tag: object) -> type[BaseModel] | None:
    try:
        return connector_class(str(tag))
    except UnknownConnector:
        return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return cast(type[BaseModel], annotation)
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _describe(loc: tuple[Any, ...], raw: Any, root: yaml.Node | None, message: str) -> str:
    """'source "x" → connector.root (line 7): message'."""
    where: list[str] = []
    node, value = root, raw
    mark = root  # the key line of the innermost mapping entry found, not its value's first line
    prefix = ""
    for i, part in enumerate(loc):
        child_value = _child(value, part)
        if child_value is _MISSING and i > 0 and isinstance(part, str) and part != loc[-1]:
            continue  # a discriminator tag pydantic adds to the location
        if loc[:1] == ("sources",) and i == 1 and isinstance(part, int):
            name = (
                value[part].get("name") if isinstance(value, list) and part < len(value) else None
            )
            name = name if isinstance(name, str) else None
            prefix = f"source {name!r}" if name else f"source #{part + 1}"
        elif not (loc[:1] == ("sources",) and i == 0 and len(loc) > 1):
            where.append(f"[{part}]" if isinstance(part, int) else str(part))
        node, mark = _child_node(node, part, mark)
        value = child_value if child_value is not _MISSING else None
    field = ".".join(where).replace(".[", "[") or "(top level)"
    line = f" (line {mark.start_mark.line + 1})" if mark is not None else ""
    head = f"{prefix} → {field}" if prefix else field
    return f"{head}{line}: {message}"


_MISSING = object()


def _child(value: Any, part: Any) -> Any:
    if isinstance(value, dict) and part in value:
        return value[part]
    if isinstance(value, list) and isinstance(part, int) and part < len(value):
        return value[part]
    return _MISSING


def _child_node(
    node: yaml.Node | None, part: Any, mark: yaml.Node | None
) -> tuple[yaml.Node | None, yaml.Node | None]:
    """The node for `part` under `node`, and the node whose line to report."""
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            if key.value == part:
                return child, key
        return node, mark
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part]
    return node, mark
