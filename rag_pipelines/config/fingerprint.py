"""The fingerprint of what in sources.yaml shapes an index version."""

from __future__ import annotations

import json

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.hashing import sha256_text

# What a build reads: the sources and their defaults, the model, the index, retrieval. Not the
# pipeline's operations (sensors, schedule, state), the gate's golden sets, or the service.
SHAPING = ("sources", "defaults", "embedding", "index", "retrieval")


def build_fingerprint(config: SourcesFile) -> str:
    """Short hex digest of the version-shaping sections: it changes when an edit of sources.yaml
    would build a different version (a rollback's pin holds until it does)."""
    shaping = config.model_dump(mode="json", include=set(SHAPING))
    return sha256_text(json.dumps(shaping, sort_keys=True))[:16]
