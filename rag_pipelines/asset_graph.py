"""The asset graph's names, defined once: asset keys, groups, checks, jobs, sensors, tags, pools.

Dagster-free, so the code location (assets/), the CLI's runner and the tests all import the
same strings; a rename here renames it everywhere.
"""

from __future__ import annotations

# Asset keys, per source (partitioned by source name, or `<source>~<k>` per shard) and corpus-wide.
DOCUMENTS = "documents"
CHUNKS = "chunks"
EMBEDDINGS = "embeddings"
FEEDBACK = "feedback"
CORPUS_SNAPSHOT = "corpus_snapshot"
VECTOR_INDEX = "vector_index"
BM25_INDEX = "bm25_index"
GRAPH_INDEX = "graph_index"
CANDIDATE_INDEX = "candidate_index"
RERANKER = "reranker"
PUBLISHED_INDEX = "published_index"
EXPERIMENTS = "experiments"
EMBEDDING_FINETUNE = "embedding_finetune"

PER_SOURCE = [DOCUMENTS, CHUNKS, EMBEDDINGS]
CORPUS_WIDE = [
    FEEDBACK,
    CORPUS_SNAPSHOT,
    VECTOR_INDEX,
    BM25_INDEX,
    GRAPH_INDEX,
    CANDIDATE_INDEX,
    RERANKER,
    PUBLISHED_INDEX,
]
# Corpus-wide assets that write index versions: one run at a time holds them (a Dagster pool).
INDEX_WRITERS = [a for a in CORPUS_WIDE if a != FEEDBACK]
OPT_IN = [EXPERIMENTS, EMBEDDING_FINETUNE]

# Asset groups, in pipeline order.
GROUP_INGEST = "ingest"
GROUP_CHUNKS = "chunks"
GROUP_EMBEDDINGS = "embeddings"
GROUP_INDEXES = "indexes"
GROUP_EVALUATION = "evaluation"
GROUP_RERANKING = "reranking"
GROUP_PUBLISHED = "published"

# Asset checks on candidate_index (blocking) and published_index (one per source, warn).
INDEX_NOT_EMPTY = "index_not_empty"
INDEX_COUNTS_AGREE = "index_counts_agree"
DATA_QUALITY = "data_quality"
RETRIEVAL_QUALITY = "retrieval_quality"
BLOCKING_CHECKS = [INDEX_NOT_EMPTY, INDEX_COUNTS_AGREE, DATA_QUALITY, RETRIEVAL_QUALITY]


def freshness_check(source: str) -> str:
    """The name of a source's freshness check on published_index."""
    return f"source_fresh_{source}"


# Jobs: what the UI, the sensors, the schedule and the CLI all launch.
INGEST_JOB = "ingest_source"
PUBLISH_JOB = "build_and_publish"
EXPERIMENTS_JOB = "run_experiments"
FINETUNE_JOB = "finetune_embedding"
OPT_IN_JOBS = {EXPERIMENTS: EXPERIMENTS_JOB, EMBEDDING_FINETUNE: FINETUNE_JOB}
WRITING_JOBS = [INGEST_JOB, PUBLISH_JOB]

# Sensors and the schedule.
SOURCE_CHANGE_SENSOR = "source_change_sensor"
MODEL_VERSION_SENSOR = "model_version_sensor"
INDEX_REFRESH_SENSOR = "index_refresh_sensor"
NIGHTLY_SCHEDULE = "nightly_refresh"

# Run tags. `dagster/partition` is set by every launcher of a partitioned run (UI, backfill,
# sensor, schedule, CLI), so the run queue limits ingest runs per source with it.
PARTITION_TAG = "dagster/partition"
PIPELINE_TAG = "rag/pipeline"
TRIGGER_TAG = "rag/trigger"
# The process that executes a run the CLI's launcher runs itself (no daemon): host name, pid and
# the process's start time (so a reused pid is not taken for it). See rag_pipelines/liveness.py.
WORKER_HOST_TAG = "rag/worker_host"
WORKER_PID_TAG = "rag/worker_pid"
WORKER_STARTED_TAG = "rag/worker_started"


def index_pool(pipeline: str) -> str:
    """The Dagster concurrency pool of a pipeline's index writers (limit 1 per instance)."""
    return f"rag_{pipeline}_index"
