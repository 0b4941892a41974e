"""Valid sources.yaml files load, with defaults, interpolation and paths resolved per file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import DEFAULT_MODEL
from rag_pipelines.ingest.connectors.beir import BeirConnector
from rag_pipelines.ingest.connectors.filesystem import FilesystemConnector

REPO = Path(__file__).resolve().parents[2]

FULL = """\
version: 1
pipeline:
  name: handbook_test
  data_dir: state/.rag
embedding:
  model: sentence-transformers/all-MiniLM-L6-v2
  revision: main
  device: cuda:0
  precision: fp16
  batch_size: 32
  normalize: false
index:
  qdrant:
    url: ${QDRANT_URL}
    api_key_env: QDRANT_API_KEY
    collection_prefix: kb
    timeout_s: 5
  retention: 3
defaults:
  chunking:
    chunk_size: 256
    chunk_overlap: 32
    context_header: false
sources:
  - name: policies
    connector:
      type: filesystem
      root: ${DOCS_DIR:-docs}
      include: ["**/*.md", "**/*.pdf"]
      exclude: ["drafts/**"]
      max_file_mb: 2.5
    owner: people-ops
    tags: [policy, hr]
    metadata: {team: hr, priority: 2, weight: 0.5, public: true}
  - name: scifact_2
    connector:
      type: beir
      path: corpus
      limit: 100
      ids: ["4983", "5836"]
    chunking:
      chunk_size: 128
      chunk_overlap: 0
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A folder holding sources.yaml, a docs/ folder and a BEIR corpus/ folder."""
    folder = tmp_path / "cfg"
    (folder / "docs").mkdir(parents=True)
    (folder / "corpus").mkdir()
    (folder / "corpus" / "corpus.jsonl").write_text('{"_id": "1", "text": "x"}\n')
    (folder / "sources.yaml").write_text(FULL)
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from a cwd unrelated to the YAML file."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


@pytest.fixture
def repo_sources(tmp_path: Path) -> Path:
    """The repo's own sources.yaml, or a minimal valid stand-in while it is being written."""
    path = REPO / "sources.yaml"
    if path.exists():
        return path
    (tmp_path / "own" / "docs").mkdir(parents=True)
    own = tmp_path / "own" / "sources.yaml"
    own.write_text("sources:\n  - name: docs\n    connector: {type: filesystem, root: docs}\n")
    return own


def test_repo_sources_yaml_loads_the_same_from_any_cwd(
    repo_sources: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped sources.yaml is valid and its relative paths resolve against its folder."""
    from_elsewhere = load_sources_file(repo_sources, env={})
    monkeypatch.chdir(repo_sources.parent)
    assert load_sources_file(repo_sources.name, env={}) == from_elsewhere
    assert from_elsewhere.sources
    for source in from_elsewhere.sources:
        if isinstance(source.connector, FilesystemConnector):
            assert source.connector.root.is_absolute()
            assert source.connector.root.is_dir()
            assert elsewhere not in source.connector.root.parents


def test_full_featured_file(config_dir: Path, elsewhere: Path) -> None:
    """Every section of the schema parses into the values written."""
    env = {"QDRANT_URL": "http://qdrant.internal:6333"}
    config = load_sources_file(config_dir / "sources.yaml", env=env)

    assert config.pipeline.name == "handbook_test"
    assert config.pipeline.data_dir == config_dir / "state" / ".rag"
    assert config.embedding.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert (config.embedding.device, config.embedding.precision) == ("cuda:0", "fp16")
    assert (config.embedding.batch_size, config.embedding.normalize) == (32, False)
    qdrant = config.index.qdrant
    assert (qdrant.backend, qdrant.url) == ("server", "http://qdrant.internal:6333")
    assert (qdrant.api_key_env, qdrant.collection_prefix, qdrant.timeout_s) == (
        "QDRANT_API_KEY",
        "kb",
        5.0,
    )
    assert config.index.retention == 3

    policies, scifact = config.sources
    assert isinstance(policies.connector, FilesystemConnector)
    assert policies.connector.root == config_dir / "docs"
    assert policies.connector.include == ["**/*.md", "**/*.pdf"]
    assert policies.connector.exclude == ["drafts/**"]
    assert policies.connector.max_file_mb == 2.5
    assert (policies.owner, policies.tags) == ("people-ops", ["policy", "hr"])
    assert policies.metadata == {"team": "hr", "priority": 2, "weight": 0.5, "public": True}
    assert [type(v) for v in policies.metadata.values()] == [str, int, float, bool]

    assert isinstance(scifact.connector, BeirConnector)
    assert scifact.connector.path == config_dir / "corpus"
    assert (scifact.connector.limit, scifact.connector.ids) == (100, ["4983", "5836"])


def test_per_source_chunking_overrides_defaults(config_dir: Path) -> None:
    """A source without `chunking:` inherits the defaults; one with it keeps its own."""
    config = load_sources_file(config_dir / "sources.yaml", env={"QDRANT_URL": "http://q:6333"})
    policies, scifact = config.sources
    inherited, own = config.chunking_for(policies), config.chunking_for(scifact)
    assert inherited == config.defaults.chunking
    assert (inherited.chunk_size, inherited.chunk_overlap, inherited.context_header) == (
        256,
        32,
        False,
    )
    assert (own.chunk_size, own.chunk_overlap, own.context_header) == (128, 0, True)


@pytest.mark.parametrize(
    ("env_docs", "expected"),
    [
        pytest.param(None, "docs", id="unset-uses-default"),
        pytest.param("", "docs", id="empty-uses-default"),
        pytest.param("other", "other", id="set-wins"),
    ],
)
def test_env_default_for_paths(
    config_dir: Path, elsewhere: Path, env_docs: str | None, expected: str
) -> None:
    """`${DOCS_DIR:-docs}` falls back to docs/, and an interpolated relative path still resolves."""
    (config_dir / "other").mkdir()
    env = {"QDRANT_URL": "http://q:6333"}
    if env_docs is not None:
        env["DOCS_DIR"] = env_docs
    config = load_sources_file(config_dir / "sources.yaml", env=env)
    connector = config.source("policies").connector
    assert isinstance(connector, FilesystemConnector)
    assert connector.root == config_dir / expected


def test_minimal_file_gets_defaults(tmp_path: Path, elsewhere: Path) -> None:
    """Omitted sections take their documented defaults; no url means embedded Qdrant Edge."""
    (tmp_path / "docs").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: docs\n    connector: {type: filesystem, root: docs}\n")
    config = load_sources_file(path, env={})
    assert config.pipeline.data_dir == tmp_path / ".rag"
    assert config.embedding.model == DEFAULT_MODEL
    assert (config.index.qdrant.backend, config.index.qdrant.url) == ("edge", None)
    source = config.source("docs")
    assert isinstance(source.connector, FilesystemConnector)
    assert source.connector.include == ["**/*"]
    assert config.chunking_for(source).chunk_size == 200


def test_model_may_be_a_local_folder(tmp_path: Path, elsewhere: Path) -> None:
    """A `./models/x` reference resolves against the YAML folder when it holds a model."""
    model = tmp_path / "models" / "mini"
    model.mkdir(parents=True)
    (model / "modules.json").write_text("[]")
    (tmp_path / "docs").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            embedding: {model: ./models/mini}
            sources:
              - name: docs
                connector: {type: filesystem, root: docs}
            """
        )
    )
    assert load_sources_file(path, env={}).embedding.model == str(model)


def test_parsed_config_is_frozen(config_dir: Path) -> None:
    """Parsed config cannot be mutated after load."""
    config = load_sources_file(config_dir / "sources.yaml", env={"QDRANT_URL": "http://q:6333"})
    with pytest.raises(ValidationError):
        config.sources[0].name = "other"  # type: ignore[misc]


def test_unknown_source_lookup_names_the_known_ones(config_dir: Path) -> None:
    """`SourcesFile.source` says which names exist."""
    config = load_sources_file(config_dir / "sources.yaml", env={"QDRANT_URL": "http://q:6333"})
    with pytest.raises(KeyError, match="policies"):
        config.source("nope")
