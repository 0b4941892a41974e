"""`${VAR}` / `${VAR:-default}` interpolation and the search for unset variables."""

from __future__ import annotations

from typing import Any

import pytest

from rag_pipelines.config.envvars import MissingEnvVar, find_missing, interpolate

ENV = {"HOST": "qdrant", "PORT": "6333", "EMPTY": ""}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("plain text", "plain text", id="no-variables"),
        pytest.param("${HOST}", "qdrant", id="set"),
        pytest.param("http://${HOST}:${PORT}/", "http://qdrant:6333/", id="several-in-one"),
        pytest.param("${HOST:-other}", "qdrant", id="default-unused-when-set"),
        pytest.param("${NOPE:-fallback}", "fallback", id="default-when-unset"),
        pytest.param("${NOPE:-}", "", id="empty-default"),
        pytest.param("${NOPE:-a b/c:d}", "a b/c:d", id="default-with-punctuation"),
        pytest.param("${EMPTY}", "", id="set-but-empty-without-default"),
        pytest.param("$${HOST}", "${HOST}", id="escaped"),
        pytest.param("$${NOPE} and ${HOST}", "${NOPE} and qdrant", id="escaped-beside-real"),
        pytest.param("$HOST", "$HOST", id="bare-dollar-untouched"),
        pytest.param("${1BAD}", "${1BAD}", id="invalid-name-untouched"),
        pytest.param(6333, 6333, id="int-untouched"),
        pytest.param(True, True, id="bool-untouched"),
        pytest.param(None, None, id="null-untouched"),
        pytest.param(
            {"a": ["${HOST}", {"b": "${NOPE:-z}", "c": 1}], "d": "$${x}"},
            {"a": ["qdrant", {"b": "z", "c": 1}], "d": "${x}"},
            id="nested-lists-and-dicts",
        ),
    ],
)
def test_interpolate(value: Any, expected: Any) -> None:
    """Each value interpolates as documented."""
    assert interpolate(value, ENV) == expected


def test_colon_dash_default_replaces_an_empty_variable() -> None:
    """Regression: `${VAR:-d}` kept an empty VAR instead of the default (POSIX `:-`)."""
    assert interpolate("${EMPTY:-fallback}", ENV) == "fallback"
    assert find_missing("${EMPTY:-fallback}", ENV) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("${HOST} ${NOPE:-d} $${GONE}", [], id="nothing-missing"),
        pytest.param("${GONE}", [("GONE", "")], id="top-level-string"),
        pytest.param({"x": {"y": ["ok", "${GONE}"]}}, [("GONE", "x.y[1]")], id="nested-location"),
        pytest.param(
            {"a": "${ONE}", "b": [{"c": "${TWO}"}]},
            [("ONE", "a"), ("TWO", "b[0].c")],
            id="all-reported",
        ),
        pytest.param("${ONE}/${TWO}", [("ONE", ""), ("TWO", "")], id="two-in-one-string"),
    ],
)
def test_find_missing(value: Any, expected: list[tuple[str, str]]) -> None:
    """Every unset variable without a default is found, with where it is."""
    assert [(m.name, m.where) for m in find_missing(value, ENV)] == expected


def test_interpolate_raises_with_location() -> None:
    """An unset variable without a default raises, naming the variable and the field."""
    with pytest.raises(MissingEnvVar) as info:
        interpolate({"index": {"qdrant": {"url": "${QDRANT_URL}"}}}, ENV)
    assert (info.value.name, info.value.where) == ("QDRANT_URL", "index.qdrant.url")
    assert str(info.value).startswith("index.qdrant.url: environment variable ${QDRANT_URL}")
    assert "${QDRANT_URL:-default}" in info.value.reason
