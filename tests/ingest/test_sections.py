"""Headings → sections with page offsets, and pages of a text range."""

from __future__ import annotations

import pytest

from rag_pipelines.ingest.models import Section
from rag_pipelines.ingest.sections import Element, build_sections

LONG = "A" * 120 + " " + "b" * 100  # a "Title" over 200 characters is body text


def _title(text: str, depth: int | None = None, page: int | None = None) -> Element:
    return Element(kind="Title", text=text, depth=depth, page=page)


def _body(text: str, page: int | None = None, kind: str = "NarrativeText") -> Element:
    return Element(kind=kind, text=text, page=page)


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([_body("x")], [([], "x")], id="body-without-heading"),
        pytest.param(
            [_title("A"), _body("x"), _title("B"), _body("y")],
            [(["A"], "x"), (["B"], "y")],
            id="sibling-headings",
        ),
        pytest.param(
            [_title("A", 0), _body("x"), _title("B", 1), _body("y"), _title("C", 1), _body("z")],
            [(["A"], "x"), (["A", "B"], "y"), (["A", "C"], "z")],
            id="nested-then-sibling",
        ),
        pytest.param(
            [
                _title("A", 0),
                _title("B", 1),
                _title("C", 2),
                _body("x"),
                _title("D", 0),
                _body("y"),
            ],
            [(["A", "B", "C"], "x"), (["D"], "y")],
            id="deep-then-back-to-top",
        ),
        pytest.param(
            [_title("A", 0), _title("B", 5), _body("x")],
            [(["A", "B"], "x")],
            id="depth-beyond-path",
        ),
        pytest.param(
            [_title("A", 0), _title("B", -1), _body("x")],
            [(["B"], "x")],
            id="negative-depth-is-top",
        ),
        pytest.param(
            [_title("  Two\n words  "), _body("  x  ")],
            [(["Two words"], "x")],
            id="whitespace-normalized",
        ),
        pytest.param(
            [_body("x"), _body("   "), _body("y", kind="ListItem")],
            [([], "x\n\ny")],
            id="blank-elements-dropped",
        ),
        pytest.param(
            [
                Element("Header", "ACME Corp"),
                _body("x"),
                Element("PageBreak", "---"),
                Element("Footer", "page 1"),
                Element("PageNumber", "1"),
                _body("y"),
            ],
            [([], "x\n\ny")],
            id="page-furniture-skipped",
        ),
        pytest.param(
            [_title("A"), _title(LONG), _body("x")],
            [(["A"], f"{LONG}\n\nx")],
            id="long-title-is-body",
        ),
        pytest.param([_title("Only"), _body("")], [([], "Only")], id="only-a-heading"),
    ],
)
def test_build_sections(elements: list[Element], expected: list[tuple[list[str], str]]) -> None:
    """Sections get the heading path above them and the body text below."""
    assert [(s.path, s.text) for s in build_sections(elements)] == expected


def test_text_of_a_headings_only_document_is_kept() -> None:
    """Regression: a file with only headings (a one-line .txt) became "no text found"."""
    sections = build_sections([_title("Quarterly Results", 0, page=1), _title("2024", 1, page=2)])
    assert [(s.path, s.text, s.page_starts) for s in sections] == [
        ([], "Quarterly Results\n\n2024", [(0, 1), (19, 2)])
    ]


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        pytest.param([_body("x")], [[]], id="no-pages"),
        pytest.param([_body("aaa", 1), _body("bb", 1)], [[(0, 1)]], id="one-page"),
        pytest.param(
            [_body("aaa", 1), _body("bb", 2), _body("c", 2), _body("dd", 3)],
            [[(0, 1), (5, 2), (12, 3)]],
            id="offsets-count-separators",
        ),
        pytest.param(
            [_body("aaa", 1), Element("Footer", "f", page=1), _body("bb", 2)],
            [[(0, 1), (5, 2)]],
            id="skipped-elements-take-no-space",
        ),
        pytest.param(
            [_body("aaa", 1), _title("H", page=2), _body("bb", 2)],
            [[(0, 1)], [(0, 2)]],
            id="offsets-restart-per-section",
        ),
        pytest.param(
            [_body("aaa", 1), _body("bb"), _body("c", 2)],
            [[(0, 1), (9, 2)]],
            id="unknown-page-keeps-current",
        ),
    ],
)
def test_page_starts(elements: list[Element], expected: list[list[tuple[int, int]]]) -> None:
    """page_starts records where in the section text each new page begins."""
    sections = build_sections(elements)
    assert [s.page_starts for s in sections] == expected
    for section in sections:
        for offset, _ in section.page_starts:
            assert 0 <= offset < len(section.text)


PAGED = Section(text="x" * 30, page_starts=[(0, 1), (10, 2), (20, 3)])


@pytest.mark.parametrize(
    ("section", "start", "end", "expected"),
    [
        pytest.param(PAGED, 0, 5, [1], id="inside-first-page"),
        pytest.param(PAGED, 5, 15, [1, 2], id="across-a-boundary"),
        pytest.param(PAGED, 10, 15, [2], id="starts-on-a-boundary"),
        pytest.param(PAGED, 15, 20, [2], id="ends-on-a-boundary"),
        pytest.param(PAGED, 0, 30, [1, 2, 3], id="whole-section"),
        pytest.param(PAGED, 25, 30, [3], id="last-page"),
        pytest.param(Section(text="x" * 10), 0, 10, [], id="no-pages"),
        pytest.param(
            Section(text="x" * 10, page_starts=[(5, 4)]), 0, 3, [], id="before-first-known-page"
        ),
        pytest.param(
            Section(text="x" * 10, page_starts=[(5, 4)]), 0, 8, [4], id="reaches-first-known-page"
        ),
    ],
)
def test_pages_between(section: Section, start: int, end: int, expected: list[int]) -> None:
    """The pages a text range lies on, in order."""
    assert section.pages_between(start, end) == expected
