"""Hostile paths and revoked access through the real service (keys from tests.security.corpus)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dagster as dg
import httpx
import pytest

from assets.runs import materialize_pipeline
from rag_pipelines.context import PipelineContext
from rag_pipelines.service.app import create_app
from tests.security.corpus import KEYS
from tests.security.hostile_corpus import (
    HIDDEN_WORD,
    LINK,
    NARROWED,
    NEWLINE_DOC,
    PLAN,
    SECRET_TEXT,
    write_config,
    write_corpus,
)
from tests.service.server import serving

MODES = ("dense", "bm25", "graph", "hybrid")
RESTRICTED = ("reader", "hr")  # neither holds group `secret`


@dataclass
class Served:
    """The service after two published versions; the first version's name."""

    url: str
    previous: str
    config_dir: Path


def _live(tmp: Path) -> str:
    return str(json.loads((tmp / "data" / "index" / "LIVE.json").read_text())["version"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Version 1 with pub/roadmap.md public; version 2 narrows it to `secret`; both served."""
    tmp = tmp_path_factory.mktemp("hostile")
    write_corpus(tmp / "corpus")
    instance = dg.DagsterInstance.ephemeral()
    assert all(r.success for r in materialize_pipeline(write_config(tmp), instance))
    previous = _live(tmp)
    config = write_config(tmp, narrowed=True)
    assert all(r.success for r in materialize_pipeline(config, instance))
    assert _live(tmp) != previous
    with serving(create_app(PipelineContext(config))) as url:
        yield Served(url, previous, tmp)


def _client(served: Served, name: str) -> httpx.Client:
    key = KEYS[name][0]
    return httpx.Client(
        base_url=served.url, timeout=60.0, headers={"Authorization": f"Bearer {key}"}
    )


def _search(served: Served, name: str, query: str, mode: str) -> list[dict[str, Any]]:
    with _client(served, name) as client:
        response = client.post("/v1/search", json={"query": query, "top_k": 50, "mode": mode})
    assert response.status_code == 200, response.text
    return list(response.json()["hits"])


def _document(served: Served, name: str, document_id: str) -> httpx.Response:
    with _client(served, name) as client:
        return client.get(f"/v1/documents/files/{quote(document_id)}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("document", [NEWLINE_DOC, PLAN])
def test_secret_text_reaches_members_only(served: Served, mode: str, document: str) -> None:
    """Regression: `secret/plan\\nB.md` missed `secret/**`; a link put plan.md under pub/."""
    word = SECRET_TEXT[document]
    query = f"{word} {HIDDEN_WORD}"  # the graph seeds from the phrase both secret files hold
    admin = _search(served, "admin", query, mode)
    assert document in {h["provenance"]["document_id"] for h in admin}
    for name in RESTRICTED:
        hits = _search(served, name, query, mode)
        assert not any(word in h["text"] for h in hits), (name, hits)
        assert document not in {h["provenance"]["document_id"] for h in hits}


def test_newline_id_is_served_to_admin_and_hidden_from_others(served: Served) -> None:
    """Regression: an id holding a newline was a 404 even for an admin key."""
    response = _document(served, "admin", NEWLINE_DOC)
    assert response.status_code == 200, response.text
    assert response.json()["document_id"] == NEWLINE_DOC
    assert _document(served, "reader", NEWLINE_DOC).status_code == 404


def test_link_is_one_document_under_its_target(served: Served) -> None:
    """Regression: a link inside the root was a second document with the link's (public) path."""
    assert _document(served, "admin", LINK).status_code == 404
    assert _document(served, "admin", PLAN).status_code == 200
    assert _document(served, "reader", PLAN).status_code == 404
    hits = _search(served, "admin", SECRET_TEXT[PLAN], "bm25")
    assert [h["provenance"]["document_id"] for h in hits] == [PLAN]


@pytest.mark.parametrize("mode", ["graph", "bm25", "hybrid"])
def test_hidden_word_changes_nothing_for_outsiders(served: Served, mode: str) -> None:
    """Regression: with seed_hits 0 a word only in hidden documents made graph mode answer."""
    for name in RESTRICTED:
        with_word = _search(served, name, f"{HIDDEN_WORD} copper kettle", mode)
        without = _search(served, name, "zzyzxq copper kettle", mode)
        strip = [(h["chunk_id"], round(h["score"], 9)) for h in with_word]
        assert strip == [(h["chunk_id"], round(h["score"], 9)) for h in without], name
    if mode == "graph":
        assert _search(served, "reader", HIDDEN_WORD, mode) == []
        assert _search(served, "admin", HIDDEN_WORD, mode)  # the word does reach members


def test_revoked_access_is_not_readable_through_an_older_version(served: Served) -> None:
    """Regression: lineage?version=<previous> returned a document whose access was narrowed."""
    response = _document(served, "admin", NARROWED)
    chunk = response.json()["chunks"][0]["chunk_id"]
    path = f"/v1/chunks/{chunk}/lineage"
    with _client(served, "admin") as admin, _client(served, "reader") as reader:
        assert admin.get(path, params={"version": served.previous}).status_code == 200
        assert reader.get(path, params={"version": served.previous}).status_code == 404
        assert reader.get(path).status_code == 404  # the live version narrowed it
        kettle = admin.get("/v1/documents/files/pub/kettle.md").json()["chunks"][0]["chunk_id"]
        old = reader.get(f"/v1/chunks/{kettle}/lineage", params={"version": served.previous})
        assert old.status_code == 200  # still public under both policies: old links resolve
        assert old.json()["index_version"]["version"] == served.previous


def test_index_hides_the_content_hash_from_restricted_callers(served: Served) -> None:
    """Regression: /v1/index showed restricted callers the top-level content_hash."""
    with _client(served, "admin") as admin, _client(served, "reader") as reader:
        assert admin.get("/v1/index").json()["manifest"]["content_hash"]
        assert "content_hash" not in reader.get("/v1/index").json()["manifest"]


def test_wrong_keys_are_rate_limited_per_address(served: Served) -> None:
    """Regression: wrong-key requests were never limited, so keys could be guessed at speed."""
    bad = {"Authorization": "Bearer wrong-key-0123456789abcdef"}
    with httpx.Client(base_url=served.url, timeout=30.0) as client:
        codes = [client.get("/v1/index", headers=bad).status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401]
        assert codes[3:] == [429, 429]
        good = {"Authorization": f"Bearer {KEYS['admin'][0]}"}
        limited = client.get("/v1/index", headers=good)  # not even checked while it is empty
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
