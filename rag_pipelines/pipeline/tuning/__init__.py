"""Tuning stages: fusion, reranker, fine-tuning, experiments, feedback."""
