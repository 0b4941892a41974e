"""Before a run: can every model the config names be loaded from this machine, offline?"""

from __future__ import annotations

from rag_pipelines.config.models import SourcesFile
from rag_pipelines.embedding.resolve import resolve_model
from rag_pipelines.errors import ModelLoadError


def model_problems(config: SourcesFile) -> list[str]:
    """One line per configured model that is not on this machine (nothing is downloaded)."""
    wanted = [("embedding.model", config.embedding.model, config.embedding.revision)]
    rerank_model = config.retrieval.rerank.model
    if rerank_model:
        wanted.append(("retrieval.rerank.model", rerank_model, None))
    problems = []
    for field, ref, revision in wanted:
        try:
            resolve_model(ref, revision, download=False)
        except ModelLoadError as exc:
            problems.append(f"{field}: {exc}")
    return problems
