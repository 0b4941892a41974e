"""The published manifest as a caller may see it: counts only over documents it can read."""

from __future__ import annotations

from typing import Any

from rag_pipelines.index.access import AccessPolicy, Readers
from rag_pipelines.index.manifest import BuildManifest
from rag_pipelines.lineage import visible_documents
from rag_pipelines.retrieval.lookup import SnapshotLookup


def manifest_for(
    manifest: BuildManifest, lookup: SnapshotLookup, readers: Readers
) -> dict[str, Any]:
    """The manifest, recounted for `readers` when part of the version is hidden from them.

    Hidden documents would show in every count, in the source content hashes, the graph sizes,
    the failures, the vocabulary size and the access settings, so those are recounted or left
    out.
    """
    data = manifest.model_dump(mode="json")
    policy = AccessPolicy.from_settings(manifest.settings)
    if policy.open_to(readers, manifest.sources):
        return data
    documents = visible_documents(policy, lookup, readers)
    chunks: dict[str, int] = {}
    for key in lookup.document_keys():
        source, document_id = key.split("/", 1)
        if policy.readable(source, document_id, readers):
            chunks[source] = chunks.get(source, 0) + lookup.chunk_count(key)
    data["sources"] = {
        name: {
            "documents": documents.get(name, 0),
            "chunks": chunks.get(name, 0),
            "chunking": summary.chunking,
            "chunker": summary.chunker,
        }
        for name, summary in manifest.sources.items()
        if documents.get(name)
    }
    total = sum(chunks.values())
    data.update(
        documents=sum(documents.values()),
        chunks=total,
        vectors=total,
        bm25_points=total,
        graph_chunks=total,
        graph={},
    )
    data.pop("content_hash", None)  # a hash over hidden documents too: it would change with them
    hidden = ("access", "bm25_terms")  # the globs of hidden documents; their vocabulary
    data["settings"] = {k: v for k, v in manifest.settings.items() if k not in hidden}
    return data
