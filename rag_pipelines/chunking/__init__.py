"""Chunking: documents into token-bounded, traceable chunks."""

from rag_pipelines.chunking.chunker import Chunker
from rag_pipelines.chunking.models import Chunk, Tokenizer

__all__ = ["Chunk", "Chunker", "Tokenizer"]
