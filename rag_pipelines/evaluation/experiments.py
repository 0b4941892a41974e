"""Experiments: each variant's configuration, and the comparison table of their scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rag_pipelines.config.models import ExperimentVariant, SourcesFile
from rag_pipelines.errors import ConfigError
from rag_pipelines.evaluation.quality import Scores

METRIC_NAMES = {
    "ndcg@10": "nDCG@10",
    "recall@10": "Recall@10",
    "recall@100": "Recall@100",
    "mrr@10": "MRR@10",
}


@dataclass(frozen=True)
class VariantResult:
    """One built variant (or the live version) and its golden-set scores."""

    name: str
    changes: str
    version: str
    chunks: int
    scores: Scores
    seconds: float = 0.0


def overrides(variant: ExperimentVariant) -> dict[str, dict[str, Any]]:
    """The keys a variant sets, per section (chunking, embedding, fusion)."""
    out: dict[str, dict[str, Any]] = {}
    for section in ("chunking", "embedding", "fusion"):
        value = getattr(variant, section)
        if value is not None:
            out[section] = value.model_dump(mode="json", exclude_unset=True)
    return out


def describe_changes(variant: ExperimentVariant) -> str:
    """`chunking.chunk_size=120, fusion.k=30`, or `none` for a copy of the base."""
    parts = [
        f"{section}.{key}={value}"
        for section, keys in overrides(variant).items()
        for key, value in keys.items()
    ]
    return ", ".join(parts) or "none"


def variant_pipeline_name(base: str, variant: str) -> str:
    """A pipeline name of at most 48 characters, distinct per variant (collection names)."""
    return f"{base[: 48 - len(variant) - 3]}_x_{variant}"


def variant_config(base: SourcesFile, variant: ExperimentVariant, data_dir: Path) -> SourcesFile:
    """The base configuration with the variant's keys replaced and its state under `data_dir`.

    A chunking override applies to every source (over its own chunking or the defaults); a
    variant that leaves fusion alone keeps fusion tuning when the base tunes it, so it is
    compared like for like with the live version.
    """
    data = base.model_dump()
    changes = overrides(variant)
    if "chunking" in changes:
        data["defaults"]["chunking"].update(changes["chunking"])
        for source in data["sources"]:
            if source["chunking"] is not None:
                source["chunking"].update(changes["chunking"])
    data["embedding"].update(changes.get("embedding", {}))
    data["embedding"]["finetune"] = None
    fusion = dict(changes.get("fusion", {}))
    if "weights" in fusion:
        fusion["weights"] = {**data["retrieval"]["fusion"]["weights"], **fusion["weights"]}
    data["retrieval"]["fusion"].update(fusion)
    data["pipeline"].update(
        data_dir=data_dir,
        name=variant_pipeline_name(base.pipeline.name, variant.name),
        # Variants stay on this machine (never published); the embedding cache stays shared.
        state={"url": None, "metadata_db": base.pipeline.state.metadata_db},
    )
    data["evaluation"].update(
        experiments=[], tune_fusion=base.evaluation.tune_fusion and variant.fusion is None
    )
    try:
        return SourcesFile.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"evaluation.experiments[{variant.name}] → {'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors()
        ]
        raise ConfigError("sources.yaml", problems) from None


def comparison_table(results: list[VariantResult], modes: list[str], metric: str, gate: str) -> str:
    """Markdown: `metric` per mode and variant (best in bold), Δ to the first row in `gate` mode."""
    label = METRIC_NAMES.get(metric, metric)
    sets = list(dict.fromkeys(s for r in results for s in r.scores))
    header = ["variant", "set", "changes", "version", "chunks", *(f"{label} {m}" for m in modes)]
    header.append(f"Δ {gate} vs {results[0].name}" if results else "Δ")
    rows = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name in sets:
        best = {m: max((_value(r, name, m, metric) or 0.0) for r in results) for m in modes}
        reference = _value(results[0], name, gate, metric) if results else None
        for r in results:
            if name not in r.scores:
                continue
            cells = [r.name, name, r.changes.replace("|", "\\|"), r.version, str(r.chunks)]
            for m in modes:
                value = _value(r, name, m, metric)
                text = "—" if value is None else f"{value:.4f}"
                cells.append(f"**{text}**" if value is not None and value == best[m] else text)
            own = _value(r, name, gate, metric)
            delta = own - reference if own is not None and reference is not None else None
            cells.append("—" if delta is None or r is results[0] else f"{delta:+.4f}")
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def gate_mode_table(results: list[VariantResult], gate: str) -> str:
    """Markdown: every metric of the gate mode, per variant and set."""
    rows = [
        "| variant | set | " + " | ".join(METRIC_NAMES.values()) + " |",
        "|" + " --- |" * (2 + len(METRIC_NAMES)),
    ]
    for r in results:
        for name, modes in r.scores.items():
            metrics = modes.get(gate, {})
            values = [f"{metrics[m]:.4f}" if m in metrics else "—" for m in METRIC_NAMES]
            rows.append(f"| {r.name} | {name} | " + " | ".join(values) + " |")
    return "\n".join(rows)


def _value(result: VariantResult, name: str, mode: str, metric: str) -> float | None:
    return result.scores.get(name, {}).get(mode, {}).get(metric)
