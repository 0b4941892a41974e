"""Materialize a pipeline's source stages or its corpus-wide stages: a subprocess to kill.

python -m tests.reliability.driver SOURCES_YAML (corpus | SOURCE)
"""

from __future__ import annotations

import sys

import dagster as dg

from assets.definitions import CORPUS_WIDE, PER_SOURCE, build_parts
from rag_pipelines.config import load_sources_file


def main(argv: list[str]) -> int:
    """Run one materialization in this process; 0 if it succeeded."""
    config = load_sources_file(argv[0])
    parts = build_parts(config)
    corpus = argv[1] == "corpus"
    result = dg.materialize(
        [*parts.assets, *parts.checks],
        selection=dg.AssetSelection.assets(*CORPUS_WIDE) if corpus else PER_SOURCE,
        partition_key=None if corpus else argv[1],
        instance=dg.DagsterInstance.ephemeral(),
        resources=parts.resources,
        raise_on_error=False,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
