"""A small source with one unique code word per file, a few bad files, and its sources.yaml."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile

SOURCE = "docs"
GOOD = {
    "kettle.md": "# Zephyr Kettle\n\nThe Zephyr Kettle boils a litre of water in forty seconds. "
    "Its service code word is quillfeather.\n",
    "lamp.md": "# Orbax Lamp\n\nThe Orbax desk lamp glows teal and runs a week on solar cells. "
    "Its service code word is marmaladeon.\n",
    "boots/tundra.md": "# Tundra Boots\n\nTundra Boots keep feet warm down to minus fifty "
    "degrees. Their service code word is brisklantern.\n",
}
ADDED = (
    "drone.md",
    "# Velvet Drone\n\nThe Velvet Drone delivers a cup of tea across the lawn. "
    "Its service code word is sparrowgleam.\n",
)
QUERY_BASELINE = ("Which kettle boils water in forty seconds?", "kettle.md")
QUERY_ADDED = ("Which drone delivers tea to the garden?", "drone.md")
BAD = {  # file -> error type recorded in the quarantine
    "scan.pdf": "WrongFormat",
    "empty.txt": "EmptyFile",
    "junk.html": "WrongFormat",
}


def write_corpus(root: Path) -> Path:
    """The good files and the bad ones under `root`."""
    rng = random.Random(6)
    files: dict[str, bytes] = {name: text.encode() for name, text in GOOD.items()}
    files["scan.pdf"] = bytes(rng.randrange(256) for _ in range(2048))
    files["empty.txt"] = b""
    files["junk.html"] = bytes(rng.randrange(256) for _ in range(2048))
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def write_config(tmp: Path, index: dict[str, Any] | None = None) -> SourcesFile:
    """tmp/sources.yaml over tmp/corpus with state in tmp/data."""
    data: dict[str, Any] = {
        "pipeline": {"name": "crash", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        "sources": [
            {"name": SOURCE, "connector": {"type": "filesystem", "root": str(tmp / "corpus")}}
        ],
    }
    if index:
        data["index"] = index
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path, env=os.environ)
