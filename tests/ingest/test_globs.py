"""Glob patterns with `**` over relative POSIX paths."""

from __future__ import annotations

import pytest

from rag_pipelines.ingest.globs import compile_glob, matches


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        pytest.param("*.md", "a.md", True, id="star-top-level"),
        pytest.param("*.md", "docs/a.md", False, id="star-stops-at-slash"),
        pytest.param("**/*.md", "a.md", True, id="globstar-matches-zero-dirs"),
        pytest.param("**/*.md", "docs/deep/a.md", True, id="globstar-matches-many-dirs"),
        pytest.param("**/*.md", "a.mdx", False, id="anchored-at-end"),
        pytest.param("docs/**", "docs/a/b.txt", True, id="trailing-globstar"),
        pytest.param("docs/**", "other/docs/a.txt", False, id="anchored-at-start"),
        pytest.param("a/**/b.txt", "a/b.txt", True, id="inner-globstar-zero"),
        pytest.param("a/**/b.txt", "a/x/y/b.txt", True, id="inner-globstar-many"),
        pytest.param("a/**/b.txt", "a/xb.txt", False, id="inner-globstar-needs-slash"),
        pytest.param("**", "any/thing.at/all", True, id="globstar-alone"),
        pytest.param("file?.txt", "file1.txt", True, id="question-one-char"),
        pytest.param("file?.txt", "file10.txt", False, id="question-only-one"),
        pytest.param("?/a", "x/a", True, id="question-any-char"),
        pytest.param("x?y", "x/y", False, id="question-not-slash"),
        pytest.param("[ab].md", "b.md", True, id="class"),
        pytest.param("[!ab].md", "b.md", False, id="negated-class-excludes"),
        pytest.param("[!ab].md", "c.md", True, id="negated-class-includes"),
        pytest.param("[a.md", "[a.md", True, id="unclosed-bracket-literal"),
        pytest.param("a+b(1).md", "a+b(1).md", True, id="regex-chars-literal"),
        pytest.param("a.md", "aXmd", False, id="dot-is-literal"),
        pytest.param("*.MD", "a.md", False, id="case-sensitive"),
        # Regression: `.`-based regexes without DOTALL stopped at a newline in a file name.
        pytest.param("secret/**", "secret/plan\nB.md", True, id="globstar-newline"),
        pytest.param("**/*.md", "a\nb/c\n.md", True, id="globstar-star-newline"),
        pytest.param("*.md", "plan\nB.md", True, id="star-newline"),
        pytest.param("a?b", "a\nb", True, id="question-newline"),
        pytest.param("secret/*", "secret/a\n/b", False, id="star-still-stops-at-slash"),
        pytest.param("x[!a]y", "x/y", False, id="negated-class-not-slash"),
        pytest.param("x[/]y", "x/y", False, id="class-not-slash"),
    ],
)
def test_compile_glob(pattern: str, path: str, expected: bool) -> None:
    """Each pattern matches exactly the paths glob semantics say it should."""
    assert bool(compile_glob(pattern).match(path)) is expected


@pytest.mark.parametrize(
    ("path", "include", "exclude", "expected"),
    [
        pytest.param("a/b.md", ["**/*"], [], True, id="include-all"),
        pytest.param("a/b.md", ["**/*.txt"], [], False, id="no-include-matches"),
        pytest.param("a/b.md", ["**/*.txt", "**/*.md"], [], True, id="any-include"),
        pytest.param("drafts/b.md", ["**/*"], ["drafts/**"], False, id="excluded"),
        pytest.param("x/drafts/b.md", ["**/*"], ["drafts/**"], True, id="exclude-anchored"),
        pytest.param("README.md", ["**/*"], ["README.md"], False, id="exclude-top-level-name"),
        pytest.param("md/README.md", ["**/*"], ["README.md"], True, id="exclude-not-nested"),
        pytest.param("a/b.md", [], [], False, id="empty-include"),
    ],
)
def test_matches(path: str, include: list[str], exclude: list[str], expected: bool) -> None:
    """A path is selected when an include matches and no exclude does."""
    assert matches(path, include, exclude) is expected
