"""Training: the embedding fine-tuner and the cross-encoder reranker trainer."""
