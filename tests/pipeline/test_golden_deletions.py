"""Golden judgements of documents deleted at the source are set aside for the quality gate."""

from __future__ import annotations

import pytest

from rag_pipelines.evaluation.golden import GoldenSet, StaleJudgement
from rag_pipelines.pipeline.checks.golden_deletions import describe, set_aside_deleted


def _set(name: str, qrels: dict[str, dict[str, int]]) -> GoldenSet:
    return GoldenSet(name, {q: f"question {q}" for q in qrels}, qrels)


PRODUCTS = _set(
    "products",
    {
        "q1": {"kettle.md": 1},
        "q2": {"lamp.txt": 1, "kettle.md": 1},
        "q3": {"boots.md": 1},
    },
)


@pytest.mark.parametrize(
    ("deleted", "queries", "stale"),
    [
        (set(), ["q1", "q2", "q3"], []),
        ({"boots.md"}, ["q1", "q2"], [("q3", "boots.md")]),
        ({"kettle.md"}, ["q2", "q3"], [("q1", "kettle.md"), ("q2", "kettle.md")]),
        ({"ghost.md"}, ["q1", "q2", "q3"], []),
    ],
)
def test_without_drops_judgements_and_queries_left_empty(
    deleted: set[str], queries: list[str], stale: list[tuple[str, str]]
) -> None:
    """Each judgement of a deleted document goes; a query with none left drops out."""
    kept, aside = PRODUCTS.without(deleted)
    assert sorted(kept.queries) == queries and sorted(kept.qrels) == queries
    assert [(s.query_id, s.document_id) for s in aside] == stale
    if "kettle.md" in deleted:
        assert kept.qrels["q2"] == {"lamp.txt": 1}


def test_a_set_looks_at_its_own_source_only() -> None:
    """A set with a source is pruned by that source's deletions, not another's."""
    sets = {
        "products": (PRODUCTS, "alpha"),
        "other": (_set("other", {"x": {"boots.md": 1}}), "beta"),
    }
    kept, stale = set_aside_deleted(sets, {"alpha": {"boots.md"}, "beta": set()}, {})
    assert list(kept) == ["products", "other"]
    assert sorted(kept["products"][0].queries) == ["q1", "q2"]
    assert kept["other"][0].qrels == {"x": {"boots.md": 1}}
    assert stale == [StaleJudgement("products", "q3", "boots.md")]


def test_a_set_without_source_keeps_ids_another_source_still_holds() -> None:
    """Without a source, an id deleted in one source but held by another is not stale."""
    sets = {"products": (PRODUCTS, None)}
    deleted = {"alpha": {"boots.md", "kettle.md"}, "beta": set()}
    kept, stale = set_aside_deleted(sets, deleted, {"beta": {"kettle.md"}})
    assert sorted(kept["products"][0].queries) == ["q1", "q2"]
    assert [s.document_id for s in stale] == ["boots.md"]


def test_a_set_whose_every_query_went_stale_drops_out() -> None:
    """Nothing left to compare: the set is not in the comparison at all."""
    sets = {"one": (_set("one", {"q": {"boots.md": 2}}), "alpha"), "products": (PRODUCTS, "alpha")}
    kept, stale = set_aside_deleted(sets, {"alpha": {"boots.md"}}, {})
    assert list(kept) == ["products"]
    assert [s.label() for s in stale] == ["one/q → boots.md", "products/q3 → boots.md"]


def test_describe_names_entries_and_what_to_do() -> None:
    """The sentence the check and status show: count, names (capped), the remedy."""
    stale = [StaleJudgement("products", f"q{i}", f"d{i}.md") for i in range(12)]
    text = describe(stale, limit=2)
    assert text.startswith("12 golden judgement(s) set aside")
    assert "products/q0 → d0.md, products/q1 → d1.md and 10 more" in text
    assert "remove them from the golden set's qrels" in text
