"""Who may read a document: source groups, per-document globs, and what each caller sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag_pipelines.config.access import AccessSettings
from rag_pipelines.index.access import AccessPolicy, can_read
from rag_pipelines.index.client_store import ClientVectorStore
from rag_pipelines.index.edge_store import EdgeVectorStore
from rag_pipelines.index.vector_store import PayloadFilter, VectorPoint, VectorStore
from rag_pipelines.retrieval.filters import matches

POLICY = AccessPolicy(
    {
        "wiki": AccessSettings(
            documents={"board/**": ["board"], "board/minutes/*.md": ["hr"], "*.secret": ["ops"]}
        ),
        "hr": AccessSettings(groups=["hr", "people-ops"]),
    }
)


@pytest.mark.parametrize(
    ("source", "document_id", "groups"),
    [
        ("wiki", "vpn.md", ("public",)),
        ("wiki", "board/plan.md", ("board",)),
        ("wiki", "board/minutes/2025.md", ("board",)),  # the first matching glob wins
        ("wiki", "keys.secret", ("ops",)),
        ("wiki", "nested/keys.secret", ("public",)),  # * does not cross folders
        ("hr", "salaries.md", ("hr", "people-ops")),
        ("gone", "x.md", ()),  # a source the version has no settings for: nobody
    ],
)
def test_groups_of_a_document(source: str, document_id: str, groups: tuple[str, ...]) -> None:
    assert POLICY.groups_of(source, document_id) == groups


def test_a_version_built_before_access_control_hides_everything_from_restricted_callers() -> None:
    old = AccessPolicy.from_settings({"bm25": {}})
    assert not old.readable("wiki", "vpn.md", frozenset({"public"}))
    assert old.readable("wiki", "vpn.md", None)


def test_policy_round_trips_through_settings() -> None:
    stored = AccessPolicy.from_settings({"access": POLICY.to_settings()})
    assert stored.to_settings() == POLICY.to_settings()
    assert stored.groups_of("wiki", "board/x") == ("board",)


@pytest.mark.parametrize(
    ("readers", "open_wiki", "open_hr"),
    [
        (frozenset({"public"}), False, False),
        (frozenset({"public", "board", "ops"}), False, False),  # no hr for board/minutes
        (frozenset({"public", "board", "ops", "hr"}), True, True),
        (frozenset({"public", "people-ops"}), False, True),
        (None, True, True),
    ],
)
def test_source_open_to(readers: frozenset[str] | None, open_wiki: bool, open_hr: bool) -> None:
    assert POLICY.source_open_to("wiki", readers) is open_wiki
    assert POLICY.source_open_to("hr", readers) is open_hr
    assert POLICY.open_to(readers, ["wiki", "hr"]) is (open_wiki and open_hr)


@pytest.mark.parametrize(
    ("groups", "readers", "visible"),
    [
        (["public"], frozenset({"public"}), True),
        (["hr"], frozenset({"public"}), False),
        (["hr", "board"], frozenset({"public", "board"}), True),
        ([], frozenset({"public"}), False),
        ([], None, True),
    ],
)
def test_can_read(groups: list[str], readers: frozenset[str] | None, visible: bool) -> None:
    assert can_read(groups, readers) is visible


@pytest.fixture(params=["edge", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    """A real Qdrant engine holding one point per group set."""
    made: VectorStore = (
        EdgeVectorStore(tmp_path / "edge")
        if request.param == "edge"
        else ClientVectorStore.local(str(tmp_path / "local"))
    )
    made.create_collection("c", 4)
    made.upsert(
        "c", [VectorPoint(f"{i:032x}", np.eye(4)[i % 4], p) for i, p in enumerate(PAYLOADS)]
    )
    made.finalize("c")
    return made


PAYLOADS = [
    {"chunk_id": f"{i:032x}", "source": s, "access_groups": g}
    for i, (s, g) in enumerate(
        [
            ("wiki", ["public"]),
            ("hr", ["hr"]),
            ("hr", ["hr", "board"]),
            ("wiki", []),
            ("wiki", ["board"]),
        ]
    )
]


@pytest.mark.parametrize(
    "flt",
    [
        PayloadFilter(groups=("public",)),
        PayloadFilter(groups=("hr",)),
        PayloadFilter(groups=("board", "public")),
        PayloadFilter(groups=()),
        PayloadFilter(sources=("hr",), groups=("board", "public")),
        PayloadFilter(sources=("wiki",)),
    ],
)
def test_store_filters_by_group_as_matches_does(store: VectorStore, flt: PayloadFilter) -> None:
    """Qdrant (Edge and client) and the Python filter used for graph hits agree."""
    found = {h.chunk_id for h in store.search("c", np.ones(4), 10, flt)}
    expected = {p["chunk_id"] for p in PAYLOADS if matches(p, flt)}
    assert found == expected
    if flt.groups is not None:
        assert all(
            set(flt.groups) & set(p["access_groups"]) for p in PAYLOADS if p["chunk_id"] in found
        )
