"""Retrieval over the published index."""
