"""A small corpus of made-up products, each with a unique code word, and a sources.yaml over it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import SourcesFile


@dataclass(frozen=True)
class Product:
    """One file of the corpus: where it lives, what it says, and the word only it contains."""

    source: str
    path: str
    code_word: str
    query: str
    text: str


ZEPHYR = Product(
    "alpha",
    "zephyr-kettle.md",
    "quillfeather",
    "Which kettle boils water in forty seconds?",
    "# Zephyr Kettle\n\n"
    "## Overview\n\n"
    "The Zephyr Kettle is an electric kettle that boils a full litre of water in forty seconds. "
    "Its service code word is quillfeather. The copper base is shaped like a seashell.\n\n"
    "## Warranty\n\n"
    "The Zephyr Kettle warranty lasts nine years and covers the heating coil and the lid hinge.\n",
)
ORBAX = Product(
    "alpha",
    "orbax-lamp.txt",
    "marmaladeon",
    "Which desk lamp glows teal and runs on solar cells?",
    "The Orbax desk lamp glows a soft teal colour and runs for a whole week on its solar cells. "
    "Its service code word is marmaladeon. The lamp arm folds flat for travel and the shade "
    "is made from recycled glass bottles.\n",
)
TUNDRA = Product(
    "alpha",
    "tundra-boots.md",
    "brisklantern",
    "Which boots keep feet warm at minus fifty degrees?",
    "# Tundra Boots\n\n"
    "Tundra Boots are insulated winter boots that keep feet warm down to minus fifty degrees. "
    "Their service code word is brisklantern. The soles grip on ice and the laces are wool.\n",
)
NIMBUS = Product(
    "beta",
    "nimbus-umbrella.md",
    "saffronwhistle",
    "Which umbrella survives storm winds of ninety kilometres per hour?",
    "# Nimbus Umbrella\n\n"
    "The Nimbus Umbrella survives storm winds of ninety kilometres per hour without flipping. "
    "Its service code word is saffronwhistle. The canopy dries in two minutes.\n",
)
KRILL = Product(
    "beta",
    "krill-compass.txt",
    "obsidianmoth",
    "Which compass points north underwater for divers?",
    "The Krill diving compass points north reliably at a depth of sixty metres underwater. "
    "Its service code word is obsidianmoth. Divers strap it to the wrist with a rubber band "
    "and the needle glows in the dark.\n",
)
VELVET = Product(
    "alpha",
    "velvet-drone.md",
    "sparrowgleam",
    "Which drone delivers tea to the garden?",
    "# Velvet Drone\n\n"
    "The Velvet Drone is a quiet garden drone that delivers a cup of tea across the lawn. "
    "Its service code word is sparrowgleam. It lands on a landing pad shaped like a lily.\n",
)
INITIAL = (ZEPHYR, ORBAX, TUNDRA, NIMBUS, KRILL)
SOURCES = ("alpha", "beta")


def write_product(roots: dict[str, Path], product: Product, age_s: float = 0.0) -> Path:
    """Write one product file; `age_s` back-dates its modification time."""
    path = roots[product.source] / product.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(product.text, encoding="utf-8")
    if age_s:
        stamp = time.time() - age_s
        os.utime(path, (stamp, stamp))
    return path


def write_corpus(
    tmp: Path, products: tuple[Product, ...] = INITIAL, age_s: float = 0.0
) -> dict[str, Path]:
    """A root folder per source under tmp/corpus holding `products`."""
    roots = {name: tmp / "corpus" / name for name in SOURCES}
    for root in roots.values():
        root.mkdir(parents=True, exist_ok=True)
    for product in products:
        write_product(roots, product, age_s)
    return roots


def write_config(
    tmp: Path,
    roots: dict[str, Path],
    name: str = "ops",
    embedding: dict[str, Any] | None = None,
    index: dict[str, Any] | None = None,
    pipeline: dict[str, Any] | None = None,
    file_name: str = "sources.yaml",
    sections: dict[str, Any] | None = None,
    per_source: dict[str, dict[str, Any]] | None = None,
) -> SourcesFile:
    """A sources.yaml with one filesystem source per root, state under tmp/data.

    `sections` adds top-level sections (evaluation, defaults, ...); `per_source` adds keys to
    the named sources.
    """
    data: dict[str, Any] = {
        "pipeline": {"name": name, "data_dir": str(tmp / "data"), **(pipeline or {})},
        "embedding": {"device": "cpu", **(embedding or {})},
        "sources": [
            {
                "name": source,
                "connector": {"type": "filesystem", "root": str(root)},
                **(per_source or {}).get(source, {}),
            }
            for source, root in roots.items()
        ],
        **(sections or {}),
    }
    if index:
        data["index"] = index
    path = tmp / file_name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)
