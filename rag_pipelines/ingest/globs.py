"""Glob patterns with `**` for relative POSIX paths (pathlib.match lacks `**` before 3.13).

Patterns compile with DOTALL: a file name may hold any character but `/` and NUL, newlines
included, and `*`/`**` must match them like any other (without it `secret/**` missed
`secret/plan\nB.md`, which then fell back to the source's default access).

Both sides are compared in Unicode NFC: `équipe/**` written precomposed (as editors write
YAML) matches a key or file name spelled decomposed (as macOS and some upload tools write
it), and the reverse. Without it the glob missed and such a document fell back to the
source's default groups. Document ids themselves keep the source's own spelling.
"""

import re
import unicodedata
from functools import lru_cache


def nfc(text: str) -> str:
    """`text` in Unicode normalisation form C (what every glob comparison uses)."""
    return unicodedata.normalize("NFC", text)


def glob_matches(pattern: str, path: str) -> bool:
    """True if `path` matches the glob `pattern`, both compared in NFC."""
    return compile_glob(pattern).match(nfc(path)) is not None


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """Translate a glob (`*`, `?`, `[...]`, `**`) into an anchored regex over NFC text.

    Match it against NFC text (`glob_matches` does).
    """
    pattern = nfc(pattern)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                # A class never matches the separator, negated or not (as in fnmatch/pathlib).
                if body.startswith("!"):
                    out.append(f"(?!/)[^{body[1:]}]")
                else:
                    out.append(f"(?!/)[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def matches(path: str, include: list[str], exclude: list[str]) -> bool:
    """True if `path` matches an include pattern and no exclude pattern (in NFC)."""
    if not any(glob_matches(p, path) for p in include):
        return False
    return not any(glob_matches(p, path) for p in exclude)
