"""Real servers started by tests on 127.0.0.1: PostgreSQL and an S3-compatible object store."""
