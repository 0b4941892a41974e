"""Write a tmp sources.yaml over the example corpus and build it through the Dagster assets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
# A nested file whose id needs quoting in a URL (slash, space, #, %, parentheses).
NESTED_ID = "teams/on call #1 (50% standby).md"
NESTED_TEXT = """# On-call rota

## Who is on call
The platform team rotates the pager weekly; the handover is every Monday at 10:00.
An engineer on call is paid a standby allowance of 150 euro per week.
"""


def copy_examples(tmp: Path) -> tuple[Path, Path]:
    """A writable copy of the example corpus (plus NESTED_ID in the handbook): its two roots."""
    policies = shutil.copytree(EXAMPLES / "policies", tmp / "corpus" / "policies")
    handbook = shutil.copytree(EXAMPLES / "handbook", tmp / "corpus" / "handbook")
    nested = handbook / NESTED_ID
    nested.parent.mkdir(parents=True)
    nested.write_text(NESTED_TEXT, encoding="utf-8")
    return policies, handbook


def write_sources(
    tmp: Path,
    policies: Path = EXAMPLES / "policies",
    handbook: Path = EXAMPLES / "handbook",
    extra: list[dict[str, Any]] | None = None,
) -> SourcesFile:
    """policies (tag policy, region eu) and handbook (tag handbook), state under tmp/data."""
    data = {
        "pipeline": {"name": "svc", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [
            {
                "name": "policies",
                "connector": {"type": "filesystem", "root": str(policies)},
                "tags": ["policy"],
                "metadata": {"region": "eu"},
            },
            {
                "name": "handbook",
                "connector": {"type": "filesystem", "root": str(handbook)},
                "tags": ["handbook"],
            },
            *(extra or []),
        ],
    }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)
