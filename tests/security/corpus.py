"""A small corpus where restricted documents are the best matches for some queries."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile

# Each restricted document is the best match for its query, by meaning and by its rare words.
SALARY_QUERY = "What is the salary band of a senior engineer?"
ZEPHYR_QUERY = "Zephyr Robotics acquisition purchase price"
SALARIES = "hr/salary-bands.md"  # source hr: groups [hr]
ACQUISITION = "handbook/board/zephyr-acquisition.md"  # handbook, overridden: groups [board]

HANDBOOK = {
    "travel.md": "# Travel\n\nBook trains for trips under 500 km. The hotel cap is 150 euro "
    "per night in every city; book through the travel desk.\n",
    "vpn.md": "# VPN\n\nConnect to the company VPN with the WireGuard client before you open "
    "internal tools. The IT desk resets lost VPN profiles.\n",
    "careers.md": "# Careers\n\nEvery engineer has a career level. Each career level maps to a "
    "salary band; your manager explains your salary band at the yearly review.\n",
    "onboarding.md": "# Onboarding\n\nIn your first week you set up the VPN, read the "
    "[travel rules](travel.md) and the [board notes](board/zephyr-acquisition.md).\n",
    "board/zephyr-acquisition.md": "# Project Zephyr\n\nThe board approved the acquisition of "
    "Zephyr Robotics. The purchase price is 42 million euro; the acquisition closes in March. "
    "Zephyr Robotics keeps its salary band structure for one year.\n",
}
HR = {
    "salary-bands.md": "# Salary bands 2025\n\nThe salary band of a senior engineer is 85,000 to "
    "98,000 euro. A staff engineer's salary band is 99,000 to 120,000 euro. Salary bands are "
    "reviewed every January.\n",
}

# name → (key, groups); "board" is stored as its SHA-256 only, like a production file would.
KEYS: dict[str, tuple[str, list[str]]] = {
    "reader": ("reader-key-0123456789abcdef", []),
    "hr": ("hr-key-0123456789abcdef0123", ["hr"]),
    "board": ("board-key-0123456789abcdef01", ["board"]),
    "admin": ("admin-key-0123456789abcdef01", ["*"]),
    "limited": ("limited-key-0123456789abcdef", []),
}
LIMITED_BURST = 3


def write_corpus(tmp: Path) -> tuple[Path, Path]:
    """The handbook and hr folders."""
    roots = (tmp / "corpus" / "handbook", tmp / "corpus" / "hr")
    for root, files in zip(roots, (HANDBOOK, HR), strict=True):
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return roots


def write_keys(path: Path) -> Path:
    """The keys file: plaintext keys, except board's, given as its SHA-256."""
    entries: list[dict[str, Any]] = []
    for name, (key, groups) in KEYS.items():
        entry: dict[str, Any] = {"name": name, "groups": groups}
        if name == "board":
            entry["sha256"] = hashlib.sha256(key.encode()).hexdigest()
        else:
            entry["key"] = key
        if name == "limited":
            entry.update(rate_per_s=0.2, burst=LIMITED_BURST)
        entries.append(entry)
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return path


def write_config(tmp: Path, auth: bool = True) -> SourcesFile:
    """handbook (public, board/** for group board) and hr (group hr), real MiniLM."""
    handbook, hr = write_corpus(tmp)
    data: dict[str, Any] = {
        "pipeline": {"name": "sec", "data_dir": str(tmp / "data")},
        "embedding": {"device": "cpu"},
        # A tiny corpus keeps phrases only if they may be common; this links documents by them.
        "index": {"graph": {"max_phrase_fraction": 1.0}},
        "sources": [
            {
                "name": "handbook",
                "connector": {"type": "filesystem", "root": str(handbook)},
                "access": {"documents": {"board/**": ["board"]}},
            },
            {
                "name": "hr",
                "connector": {"type": "filesystem", "root": str(hr)},
                "access": {"groups": ["hr"]},
            },
        ],
    }
    if auth:
        data["service"] = {
            "auth": {"keys_file": str(write_keys(tmp / "keys.yaml"))},
            "rate_limit": {"rate_per_s": 50, "burst": 100},
        }
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)
