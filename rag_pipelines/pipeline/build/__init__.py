"""Build stages: documents, chunks, embeddings, indexes and the candidate version."""
