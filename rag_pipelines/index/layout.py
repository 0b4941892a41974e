"""File names inside a build directory (index/builds/<version>/), shared by writers and readers."""

SNAPSHOT = "snapshot.json"
CHUNKS = "chunks.jsonl"
DOCUMENTS = "documents.jsonl"
BM25_MODEL = "bm25.json"
BM25_ACCESS = "bm25_access.json"  # per access class frequencies: idf as a caller sees it
GRAPH = "graph.json"
FUSION_RECORD = "fusion.json"
RERANKER_RECORD = "reranker.json"
QUERY_WEIGHTS_RECORD = "query_weights.json"
GENERATION_SEQUENCE = "sequence.json"  # versioning: generation, the version's sequence number
