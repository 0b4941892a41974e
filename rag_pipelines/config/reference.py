"""The sources.yaml reference, generated from the pydantic models (one table per section).

`docs/configuration-reference.md` is this module's output; a test regenerates it and fails when
the checked-in page is stale, and another fails on a setting without a description, so the
reference cannot drift from what the loader accepts.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rag_pipelines.config.connectors import BUILTIN, connector_class

HEADER = """# sources.yaml reference

Generated from the pydantic models that validate sources.yaml
(`rag_pipelines/config/reference.py`); do not edit by hand. After changing a setting, run
`RAG_UPDATE_SNAPSHOTS=1 pytest tests/config/test_reference.py` to regenerate this page.
An annotated example of a whole file is in [sources.yaml](configuration.md).

Paths are relative to the sources.yaml file. Any string may use `${VAR}` or `${VAR:-default}`.
"""


@dataclass(frozen=True)
class Section:
    """One model of the reference: where it sits in sources.yaml and its settings."""

    path: str
    model: type[BaseModel]
    also: tuple[str, ...] = ()


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation holds (in unions, lists and dict values)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set):
        return True
    return any(_is_list(a) for a in typing.get_args(annotation) if a is not type(None))


def annotation(model: type[BaseModel], name: str) -> Any:
    """A field's type, with forward references (a model defined further down) resolved."""
    found = model.model_fields[name].annotation
    if isinstance(found, (str, typing.ForwardRef)):
        return typing.get_type_hints(model)[name]
    return found


def _rank(path: str) -> tuple[int, int]:
    """Where a model shared by several sections is described: fewest lists, then shortest."""
    return (path.count("[]"), len(path))


def sections(root: type[BaseModel]) -> list[Section]:
    """Every model reachable from `root` once, at its plainest path, in the file's order."""
    paths: dict[type[BaseModel], list[str]] = {}
    order: list[str] = []

    def visit(model: type[BaseModel], path: str) -> None:
        order.append(path)
        if model in paths:
            paths[model].append(path)
            return
        paths[model] = [path]
        for name in model.model_fields:
            kind = annotation(model, name)
            suffix = "[]" if _is_list(kind) else ""
            for sub in _models_in(kind):
                visit(sub, f"{path}.{name}{suffix}" if path else f"{name}{suffix}")

    visit(root, "")
    found = []
    for model, where in paths.items():
        primary = min(where, key=_rank)
        found.append(Section(primary, model, tuple(p for p in where if p != primary)))
    return sorted(found, key=lambda s: order.index(s.path))


def connector_sections() -> list[Section]:
    """The built-in connectors, each under `sources[].connector` with its `type`."""
    out = []
    for kind in sorted(BUILTIN):
        cls = connector_class(kind)
        for section in sections(cls):
            tail = f".{section.path}" if section.path else ""
            path = f"sources[].connector (type: {kind}){tail}"
            out.append(Section(path, section.model, section.also))
    return out


def _type_name(annotation: Any) -> str:
    """A reader's spelling of a type: `int`, `str | null`, `auto | fp32 | fp16`, `list[str]`."""
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(str(m.value) for m in annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Literal:
        return " | ".join(json.dumps(a) if not isinstance(a, str) else a for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple, set):
        return f"list[{', '.join(_type_name(a) for a in args if a is not Ellipsis)}]"
    if origin is dict:
        return f"map[{_type_name(args[0])}, {_type_name(args[1])}]"
    if annotation is Path:
        return "path"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    """The default as YAML would write it; `required` when there is none."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(section)"
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{json.dumps(value, default=str)}`"


_BOUNDS = ((Ge, "≥", "ge"), (Gt, ">", "gt"), (Le, "≤", "le"), (Lt, "<", "lt"))


def _bounds(info: FieldInfo) -> str:
    """Numeric and length bounds and patterns, as `≥ 1, ≤ 1024`."""
    parts = []
    for item in info.metadata:
        for kind, sign, attr in _BOUNDS:
            if isinstance(item, kind):
                parts.append(f"{sign} {getattr(item, attr)}")
        if isinstance(item, MinLen):
            parts.append(f"at least {item.min_length} long")
        if isinstance(item, MaxLen):
            parts.append(f"at most {item.max_length} long")
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            parts.append(f"matches `{pattern}`")
    return ", ".join(parts)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def section_markdown(section: Section) -> str:
    """One section: a heading, the model's docstring, a table of its settings."""
    doc = " ".join((section.model.__doc__ or "").split())
    title = section.path or "(top level)"
    lines = [f"## `{title}`", "", doc, ""]
    if section.also:
        lines += ["Also at " + ", ".join(f"`{p}`" for p in section.also) + ".", ""]
    lines.append("| key | type | default | description |")
    lines.append("| --- | --- | --- | --- |")
    for name, info in section.model.model_fields.items():
        key = info.alias or name
        kind = _type_name(annotation(section.model, name))
        bounds = _bounds(info)
        if bounds:
            kind = f"{kind} ({bounds})"
        description = info.description or ""
        if not description:
            subs = list(_models_in(annotation(section.model, name)))
            if subs:
                description = " ".join((subs[0].__doc__ or "").split()).split(". ")[0]
        cells = [f"`{key}`", _cell(kind), _cell(_default(info)), _cell(description)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reference_markdown(root: type[BaseModel]) -> str:
    """The whole reference page for `root` (SourcesFile) and the built-in connectors."""
    body = [section_markdown(s) for s in sections(root) + connector_sections()]
    return HEADER + "\n" + "\n".join(body)


def undescribed(root: type[BaseModel]) -> list[str]:
    """Settings without a description: leaf fields lacking one, models lacking a docstring."""
    missing = []
    for section in sections(root) + connector_sections():
        if not (section.model.__doc__ or "").strip():
            missing.append(f"{section.path or '(top level)'}: the model has no docstring")
        for name, info in section.model.model_fields.items():
            if info.description or list(_models_in(annotation(section.model, name))):
                continue
            missing.append(f"{section.path + '.' if section.path else ''}{name}")
    return missing
