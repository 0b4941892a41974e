"""Retrieval legs: one module per leg, found by the registry (adding a leg is one file)."""
