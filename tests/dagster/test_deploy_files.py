"""deploy/: what can be checked without a Docker daemon or a cluster (README says what was not run).

The YAML parses, Dagster accepts the instance config, and the names the files use agree with
each other and with the environment variables the code reads.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import dagster as dg
import pytest
import yaml
from dagster._cli.workspace.cli_target import WorkspaceOpts, get_workspace_from_cli_opts
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef

from assets.definitions import build_parts
from assets.executor import EXECUTOR_ENV, build_executor
from assets.launch import WORKSPACE_ENV
from rag_pipelines.asset_graph import EMBEDDINGS
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.loader import SOURCES_ENV
from rag_pipelines.runner import DEV_INSTANCE_YAML
from tests.dataops.corpus import write_config

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PG_ENV = {
    "DAGSTER_PG_HOST": "127.0.0.1",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "secret",
}


def load(name: str) -> Any:
    """A YAML file of deploy/."""
    return yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))


def compose_env(service: str) -> dict[str, str]:
    """A compose service's environment (anchors resolved by the YAML loader)."""
    return {
        k: str(v)
        for k, v in load("docker-compose.yaml")["services"][service]["environment"].items()
    }


def env_refs(text: str) -> set[str]:
    """Environment variables a Dagster config names with `env: NAME`."""
    return set(re.findall(r"^\s*env:\s*([A-Z_][A-Z0-9_]*)\s*$", text, flags=re.M))


@pytest.mark.parametrize(
    "name",
    ["dagster.yaml", "workspace.yaml", "sources.yaml", "docker-compose.yaml", "helm/values.yaml"],
)
def test_yaml_parses(name: str) -> None:
    assert isinstance(load(name), dict)


@pytest.mark.parametrize("which", ["deploy", "dev"])
def test_dagster_accepts_the_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    """Dagster's own validation of dagster.yaml: PostgreSQL storage with the psycopg2 scheme,
    the queued run coordinator, the concurrency limits; and the SQLite default of make dev."""
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    text = (DEPLOY / "dagster.yaml").read_text() if which == "deploy" else DEV_INSTANCE_YAML
    (tmp_path / "dagster.yaml").write_text(text)
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"] == {"granularity": "run", "default_limit": 1}
    if which == "deploy":
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
        storage = InstanceRef.from_dir(str(tmp_path)).storage_data
        assert storage is not None and storage.class_name == "DagsterPostgresStorage"
    else:
        assert "storage" not in config  # SQLite under DAGSTER_HOME, Dagster's default


def test_dev_deploy_and_helm_share_the_concurrency_limits() -> None:
    """One queue policy everywhere: per-source tag limit, index pool at run granularity."""
    deploy = load("dagster.yaml")["concurrency"]
    dev = yaml.safe_load(DEV_INSTANCE_YAML)["concurrency"]
    helm = load("helm/values.yaml")["concurrency"]
    assert dev["pools"] == deploy["pools"]
    assert dev["runs"]["tag_concurrency_limits"] == deploy["runs"]["tag_concurrency_limits"]
    assert helm["pools"] == {"defaultLimit": 1, "granularity": "run"}
    assert helm["runs"]["tagConcurrencyLimits"] == deploy["runs"]["tag_concurrency_limits"]


def test_dev_deploy_and_helm_monitor_runs() -> None:
    """Regression: the CLI's and make dev's instance had no run monitoring, so a run whose
    worker died stayed STARTED under the daemon too."""
    for instance in (yaml.safe_load(DEV_INSTANCE_YAML), load("dagster.yaml")):
        assert instance["run_monitoring"]["enabled"] is True
    assert load("helm/values.yaml")["dagsterDaemon"]["runMonitoring"]["enabled"] is True


def test_compose_services_match_the_names_the_code_and_configs_use() -> None:
    services = load("docker-compose.yaml")["services"]
    assert {"postgres", "qdrant", "code_location", "webserver", "daemon", "index_service"} <= set(
        services
    )
    needed = env_refs((DEPLOY / "dagster.yaml").read_text())
    assert needed == set(PG_ENV)
    for name in ("code_location", "webserver", "daemon"):
        env = compose_env(name)
        assert needed <= set(env), name
        assert env["DAGSTER_PG_HOST"] in services
        assert urlparse(env["QDRANT_URL"]).hostname in services
        assert env[SOURCES_ENV] == "/opt/rag/sources.yaml"
        assert env[WORKSPACE_ENV] == "/opt/dagster/workspace.yaml"
    (server,) = [e["grpc_server"] for e in load("workspace.yaml")["load_from"]]
    assert server["host"] in services
    command = services["code_location"]["command"]
    assert command[command.index("-p") + 1] == str(server["port"])
    sources_text = (DEPLOY / "sources.yaml").read_text()
    sources = load("sources.yaml")
    for name in ("code_location", "index_service"):
        env = compose_env(name)
        assert set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", sources_text)) <= set(env), name
        assert sources["index"]["qdrant"]["api_key_env"] in env, name
    assert sources["service"]["auth"]["keys_env"] in compose_env("index_service")
    pg = services["postgres"]["environment"]
    assert compose_env("daemon")["DAGSTER_PG_DB"] == pg["POSTGRES_DB"]
    assert compose_env("daemon")["DAGSTER_PG_USER"] == pg["POSTGRES_USER"]


def test_deploy_sources_yaml_is_a_valid_pipeline(tmp_path: Path) -> None:
    """The deployed sources.yaml validates (the compose file mounts examples/ at /corpus)."""
    text = (DEPLOY / "sources.yaml").read_text().replace("/corpus/", f"{REPO / 'examples'}/")
    (tmp_path / "sources.yaml").write_text(text)
    config = load_sources_file(tmp_path / "sources.yaml", env={"QDRANT_URL": "http://qdrant:6333"})
    assert config.index.qdrant.backend == "server"
    assert str(config.pipeline.data_dir) == "/data"


def test_dockerfiles_pin_what_the_project_pins() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    makefile = (REPO / "Makefile").read_text()
    torch = re.search(r'"torch==([^"]+)"', pyproject)
    inference = re.search(r"unstructured-inference==([\w.]+)", makefile)
    assert torch and inference
    for name in ("Dockerfile", "Dockerfile.cuda"):
        text = (DEPLOY / name).read_text()
        assert f"torch=={torch.group(1)}" in text, name
        assert f"unstructured-inference=={inference.group(1)}" in text, name
        assert "pip install torchvision" not in text
        for source in re.findall(r"^COPY (deploy/\S+)", text, flags=re.M):
            assert (REPO / source).exists(), source
    assert "dagster-k8s==" in (DEPLOY / "Dockerfile.cuda").read_text()


def test_helm_values_select_the_k8s_launcher_executor_and_a_gpu_for_embedding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """K8sRunLauncher for runs, k8s_job_executor for steps (via the env the code reads), and
    the embeddings step, only it, asks for an NVIDIA GPU node."""
    values = load("helm/values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e["value"] for e in deployment["env"]}
    assert env[EXECUTOR_ENV] == "k8s_job"
    assert f"{EXECUTOR_ENV}=k8s_job" in values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"]
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"

    monkeypatch.setenv(EXECUTOR_ENV, "k8s_job")
    parts = build_parts(load_sources_file(REPO / "sources.yaml"))
    for asset in parts.assets:
        for key in asset.keys:
            tags = asset.op.tags
            raw = tags.get("dagster-k8s/config")
            k8s = json.loads(raw) if isinstance(raw, str) else raw  # Dagster stores tags as text
            if key == dg.AssetKey(EMBEDDINGS):
                assert k8s["container_config"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
                assert k8s["pod_spec_config"]["node_selector"]
            else:
                assert k8s is None, key
    try:
        import dagster_k8s  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="dagster-k8s"):
            build_executor()


def test_the_qdrant_key_is_a_dagster_env_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets reach resources through dg.EnvVar (shown by name, resolved at run time)."""
    from assets.resources import VectorStoreResource
    from rag_pipelines.config.models import QdrantSettings

    settings = QdrantSettings.model_validate(
        {"backend": "server", "url": "http://127.0.0.1:1", "api_key_env": "RAG_TEST_QDRANT_KEY"}
    )
    resource = VectorStoreResource.from_settings(settings, str(tmp_path))
    assert isinstance(resource.api_key, dg.EnvVar)
    assert resource.api_key.env_var_name == "RAG_TEST_QDRANT_KEY"
    monkeypatch.setenv("RAG_TEST_QDRANT_KEY", "s3cret")
    with dg.build_resources({"vector_store": resource}) as resources:
        store = resources.vector_store.get()
        try:
            assert store.client._client._api_key == "s3cret"  # type: ignore[attr-defined]
        finally:
            store.close()


HOST = DEPLOY / "host"
DEPLOYMENT_DOCS = REPO / "docs" / "deployment.md"


def test_host_files_parse_and_point_where_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/ had only container files: a workspace naming the host `code_location` and
    compute logs under /opt/dagster/logs."""
    for key, value in PG_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "logs"))
    (tmp_path / "dagster.yaml").write_text((HOST / "dagster.yaml").read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["compute_logs"]["config"]["base_dir"] == {"env": "DAGSTER_COMPUTE_LOGS_DIR"}
    deploy = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    host = yaml.safe_load((HOST / "dagster.yaml").read_text())
    assert {k: v for k, v in host.items() if k != "compute_logs"} == {
        k: v for k, v in deploy.items() if k != "compute_logs"
    }
    (server,) = yaml.safe_load((HOST / "workspace.yaml").read_text())["load_from"]
    assert server == {
        "grpc_server": {"host": "127.0.0.1", "port": 4000, "location_name": "rag_pipelines"}
    }
    docs = DEPLOYMENT_DOCS.read_text(encoding="utf-8")
    for named in (
        "dagster code-server start -h 127.0.0.1 -p 4000 -m assets",
        "dagster-daemon run -w deploy/host/workspace.yaml",
        "dagster-webserver -h 127.0.0.1 -p 3000 -w deploy/host/workspace.yaml",
        'rag-pipelines --config "$RAG_SOURCES" serve',
        "DAGSTER_COMPUTE_LOGS_DIR",
        "deploy/host/dagster.yaml",
        WORKSPACE_ENV,
    ):
        assert named in docs, named
    assert env_refs((HOST / "dagster.yaml").read_text()) - set(PG_ENV) == {
        "DAGSTER_COMPUTE_LOGS_DIR"
    }


@pytest.mark.slow
def test_host_workspace_loads_the_code_location_from_a_code_server(tmp_path: Path) -> None:
    """The host workspace, its port moved to a free one, loads `rag_pipelines` from a real
    `dagster code-server start` on loopback (the command docs/deployment.md gives)."""

    root = tmp_path / "docs"
    root.mkdir()
    (root / "note.md").write_text("# Note\n\nA short note.\n", encoding="utf-8")
    write_config(tmp_path, {"docs": root})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    workspace = tmp_path / "workspace.yaml"
    text = (HOST / "workspace.yaml").read_text().replace("port: 4000", f"port: {port}")
    workspace.write_text(text)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        SOURCES_ENV: str(tmp_path / "sources.yaml"),
        "PYTHONPATH": str(REPO),
    }
    command = [str(Path(sys.executable).with_name("dagster")), "code-server", "start"]
    server = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port), "-m", "assets"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the code server's own gRPC child is stopped with it
    )
    try:
        deadline = time.monotonic() + 240
        with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
            while True:
                with get_workspace_from_cli_opts(
                    instance, dg.__version__, WorkspaceOpts(workspace=[str(workspace)])
                ) as context:
                    entry = context.get_code_location_entries()["rag_pipelines"]
                    if entry.code_location is not None:
                        (repo,) = entry.code_location.get_repositories().values()
                        keys = {n.asset_key for n in repo.get_asset_node_snaps()}
                        break
                assert server.poll() is None, "the code server exited"
                assert time.monotonic() < deadline, f"not loaded: {entry.load_error}"
                time.sleep(2)
        assert dg.AssetKey(EMBEDDINGS) in keys
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
