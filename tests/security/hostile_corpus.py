"""A source where hostile paths meet access globs: a newline in a name, a link into secret/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile
from tests.security.corpus import write_keys

NEWLINE_DOC = "secret/plan\nB.md"
PLAN = "secret/plan.md"
LINK = "pub/notes.md"  # → ../secret/plan.md
NARROWED = "pub/roadmap.md"  # public in the first version, [secret] in the second
HIDDEN_WORD = "xylophonic"  # only in secret/ documents
SECRET_TEXT = {NEWLINE_DOC: "quokkabridge", PLAN: "marmotfalcon"}  # each only in that one
FILES = {
    "pub/kettle.md": "# Copper kettle\n\nThe copper kettle boils water in forty seconds.\n",
    "pub/lamp.md": "# Teal lamp\n\nThe teal lamp glows at night and charges by day.\n",
    NARROWED: "# Roadmap\n\nThe roadmap plans a copper kettle with a teal lamp for spring.\n",
    NEWLINE_DOC: "# Plan B\n\nPlan B code name quokkabridge: a xylophonic copper kettle.\n",
    PLAN: "# Plan\n\nThe plan code name marmotfalcon: a xylophonic teal lamp.\n",
}


def write_corpus(root: Path) -> Path:
    """The files, and the link pub/notes.md → ../secret/plan.md."""
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / LINK).symlink_to(Path("..") / "secret" / "plan.md")
    return root


def write_config(tmp: Path, narrowed: bool = False) -> SourcesFile:
    """One source, secret/** for group `secret`; graph seeds from phrases only (seed_hits 0)."""
    documents = {"secret/**": ["secret"], **({NARROWED: ["secret"]} if narrowed else {})}
    data: dict[str, Any] = {
        "pipeline": {"name": "hostile", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "index": {"graph": {"max_phrase_fraction": 1.0, "seed_hits": 0}},
        "sources": [
            {
                "name": "files",
                "connector": {"type": "filesystem", "root": str(tmp / "corpus")},
                "access": {"documents": documents},
            }
        ],
        "service": {
            "auth": {"keys_file": str(write_keys(tmp / "keys.yaml"))},
            "rate_limit": {"rate_per_s": 50, "burst": 100, "failed_auth_burst": 3},
        },
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)
