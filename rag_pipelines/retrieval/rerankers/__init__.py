"""Reranker kinds: one module per kind, found by the registry (adding a kind is one file)."""
