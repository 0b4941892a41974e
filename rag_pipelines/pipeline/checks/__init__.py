"""Check stages: blocking checks, data and retrieval quality, freshness, quarantine."""
