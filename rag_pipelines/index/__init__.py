"""Indexes: vector stores (Qdrant Edge / qdrant-client), BM25, the graph, versions, access."""
