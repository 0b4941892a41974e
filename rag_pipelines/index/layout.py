"""File names inside a build directory (index/builds/<version>/), shared by writers and readers."""

SNAPSHOT = "snapshot.json"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
BM25_MODEL = "bm25.json"
GRAPH = "graph.json"
FUSION_RECORD = "fusion.json"
RERANKER_RECORD = "reranker.json"
