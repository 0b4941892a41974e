"""The published index service (FastAPI)."""
