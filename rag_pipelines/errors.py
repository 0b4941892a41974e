"""Typed errors a user can cause; each message says what to do."""


class RagPipelinesError(Exception):
    """Base class for errors caused by input (config, files, requests), not by bugs."""


class ConfigError(RagPipelinesError):
    """sources.yaml is invalid; `problems` lists every error found, one line each."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s)\n{lines}")


class ModelLoadError(RagPipelinesError):
    """The configured embedding model could not be loaded."""


class IndexNotFoundError(RagPipelinesError):
    """No published index exists yet (run `rag-pipelines materialize`)."""


class PublishRefusedError(RagPipelinesError):
    """A build was not published because it is incomplete or failed its checks."""


class UnknownSourceError(RagPipelinesError):
    """A filter names a source the published index does not have."""

    def __init__(self, unknown: list[str], known: list[str]) -> None:
        self.unknown = unknown
        self.known = known
        super().__init__(
            f"unknown source(s) {', '.join(unknown)}: the published index has "
            f"{', '.join(known) or 'no sources'}"
        )
