"""The embedding_finetune asset on a tiny SciFact slice, and the model-version path after it.

Plumbing, not a quality claim (a handful of pairs, one epoch, 64-token inputs): a new model
folder with its own fingerprint that loads offline, trained with hard negatives mined from the
live version, an honest held-back comparison in the metadata, reuse when nothing changed, and
a new index version once embedding.model names it, its fusion re-tuned (RRF or min-max) on the
tuning queries and gated against the live version on the held-back ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pytest
import yaml

from assets.definitions import PER_SOURCE, build_parts
from assets.runs import materialize_pipeline, metadata_of
from rag_pipelines.beir import write_qrels, write_queries
from rag_pipelines.config import load_sources_file
from rag_pipelines.config.models import EmbeddingSettings, SourcesFile
from rag_pipelines.context import PipelineContext
from rag_pipelines.embedding.model import SentenceTransformerModel
from rag_pipelines.index.records import load_fusion_record
from rag_pipelines.index.versions import VersionRegistry
from rag_pipelines.pipeline.build.changes import model_change
from rag_pipelines.workspace import Workspace
from tests.scifact import judged_slice, load_queries

pytestmark = pytest.mark.slow

FINETUNE = {
    "max_queries": 20,
    "epochs": 1,
    "batch_size": 8,
    "max_seq_length": 64,
    "holdout_fraction": 0.3,
    "hard_negatives": True,
}


def write_golden(tmp: Path, scifact: Path, qrels: dict[str, set[str]]) -> tuple[Path, Path]:
    """The slice's judged queries as BEIR files (fine-tuning and the golden set share them)."""
    texts = load_queries(scifact)
    queries, judged = tmp / "golden" / "queries.jsonl", tmp / "golden" / "qrels.tsv"
    queries.parent.mkdir(exist_ok=True)
    write_queries(queries, {q: texts[q] for q in qrels})
    write_qrels(judged, {q: dict.fromkeys(docs, 1) for q, docs in qrels.items()})
    return queries, judged


def write_config(tmp: Path, scifact: Path, ids: list[str], model: str | None = None) -> SourcesFile:
    """The slice, with embedding.finetune and a golden set over the slice's judged queries."""
    queries, qrels = tmp / "golden" / "queries.jsonl", tmp / "golden" / "qrels.tsv"
    finetune = {"queries": str(queries), "qrels": str(qrels), "source": "scifact", **FINETUNE}
    embedding: dict[str, Any] = {"device": "cpu", "finetune": finetune}
    if model is not None:
        embedding["model"] = model
    golden = {"name": "slice", "queries": str(queries), "qrels": str(qrels), "source": "scifact"}
    data = {
        "pipeline": {"name": "ft", "data_dir": str(tmp / "data")},
        "embedding": embedding,
        "evaluation": {
            "sets": [{**golden, "holdout_fraction": 0.3}],
            "tune_fusion": True,
            "tune_fusion_method": True,
            "gate": {"max_regression": 1.0},
        },
        "sources": [
            {"name": "scifact", "connector": {"type": "beir", "path": str(scifact), "ids": ids}}
        ],
    }
    path = tmp / ("sources.yaml" if model is None else "finetuned.yaml")
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_sources_file(path)


def materialize(config: SourcesFile, selection: list[str], partition: str | None = None) -> Any:
    """dg.materialize a selection of the pipeline's assets."""
    parts = build_parts(config)
    return dg.materialize(
        [*parts.assets, *parts.checks],
        selection=selection,
        partition_key=partition,
        resources=parts.resources,
        instance=dg.DagsterInstance.ephemeral(),
    )


@dataclass
class Tuned:
    """The published base pipeline and the first fine-tune's metadata."""

    tmp: Path
    scifact: Path
    ids: list[str]
    config: SourcesFile
    meta: dict[str, Any]

    @property
    def model_dir(self) -> Path:
        """Where the fine-tuned model was saved."""
        return self.tmp / "data" / "models" / "finetuned"


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, scifact_dir: Path) -> Tuned:
    """30 judged queries over 60 documents, published with the base model, then fine-tuned."""
    tmp = tmp_path_factory.mktemp("finetune")
    _, qrels, ids = judged_slice(scifact_dir, 30, 60)
    write_golden(tmp, scifact_dir, qrels)
    config = write_config(tmp, scifact_dir, ids)
    assert all(r.success for r in materialize_pipeline(config, dg.DagsterInstance.ephemeral()))
    meta = metadata_of(materialize(config, ["embedding_finetune"]), "embedding_finetune")
    return Tuned(tmp, scifact_dir, ids, config, meta)


def test_a_new_model_with_its_own_fingerprint_is_saved(tuned: Tuned) -> None:
    """A sentence-transformers folder under the data dir, a different fingerprint, trained now."""
    assert not tuned.meta["reused"]
    assert Path(tuned.meta["model_path"]) == tuned.model_dir
    assert (tuned.model_dir / "model.safetensors").is_file()
    assert (tuned.model_dir / "finetune.json").is_file()
    assert tuned.meta["model_fingerprint"].startswith("finetuned@sha256:")
    assert tuned.meta["model_fingerprint"] != tuned.meta["base_fingerprint"]
    assert tuned.meta["train_pairs"] >= 20
    assert tuned.meta["training"]["steps"] >= 2


def test_held_back_comparison_is_reported(tuned: Tuned) -> None:
    """Base and fine-tuned nDCG@10 on queries the training never saw, both real numbers."""
    assert tuned.meta["holdout_queries"] >= 5
    holdout = tuned.meta["holdout"]
    for model in ("base", "finetuned"):
        assert set(holdout[model]) == {"ndcg@10", "recall@10", "recall@100", "mrr@10"}
        assert 0.0 < holdout[model]["ndcg@10"] <= 1.0
    assert tuned.meta["holdout_dense_ndcg@10_base"] == holdout["base"]["ndcg@10"]
    assert tuned.meta["holdout_dense_ndcg@10_finetuned"] == holdout["finetuned"]["ndcg@10"]


def test_model_loads_offline_and_reads_full_length_inputs(
    tuned: Tuned, minilm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loadable with no network, the recorded fingerprint, new weights, the base's max length."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = SentenceTransformerModel(EmbeddingSettings(model=str(tuned.model_dir), device="cpu"))
    assert model.fingerprint.key == tuned.meta["model_fingerprint"]
    assert model.max_seq_length == minilm.max_seq_length  # trained at 64, serves at 256
    text = ["Vitamin D deficiency is associated with bone fractures."]
    assert not np.allclose(model.encode(text), minilm.encode(text))


def test_rerun_reuses_the_model(tuned: Tuned) -> None:
    """Same base, judgements, chunks and settings: nothing is trained again."""
    weights = tuned.model_dir / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    again = metadata_of(materialize(tuned.config, ["embedding_finetune"]), "embedding_finetune")
    assert again["reused"] and again["model_fingerprint"] == tuned.meta["model_fingerprint"]
    assert weights.stat().st_mtime_ns == stamp


def test_pointing_embedding_model_at_it_goes_through_the_model_version_path(tuned: Tuned) -> None:
    """The sensor's model change fires; embeddings are already cached; a new version is checked."""
    config = write_config(tuned.tmp, tuned.scifact, tuned.ids, model=str(tuned.model_dir))
    ctx = PipelineContext(config)
    change = model_change(ctx)
    assert change is not None and change.configured.startswith("finetuned@sha256:")
    # Still the same fine-tune: its base is read from the record, so it is not trained again.
    rerun = metadata_of(materialize(config, ["embedding_finetune"]), "embedding_finetune")
    assert rerun["reused"]
    embedded = metadata_of(materialize(config, PER_SOURCE, "scifact"), "embeddings")
    assert embedded["embedded"] == 0 and embedded["reused_from_cache"] > 0
    registry = VersionRegistry(Workspace(tuned.tmp / "data"))
    before = registry.live()
    assert before is not None
    runs = materialize_pipeline(config, dg.DagsterInstance.ephemeral(), raise_on_error=False)
    newest = registry.versions()[-1]
    assert newest != before.version
    assert registry.manifest(newest).model.key == tuned.meta["model_fingerprint"]
    verdicts = registry.checks(newest)
    assert "retrieval_quality" in verdicts
    published = all(v.passed for v in verdicts.values())
    live = registry.live()
    assert live is not None and (live.version == newest) == published
    assert runs[-1].success == published
    assert published  # the gate allows any regression here: the plumbing, not the quality
    # Fusion re-tuned for the new model on the tuning part only, both methods tried.
    fusion = load_fusion_record(registry.build_path(newest))
    assert fusion is not None and fusion.tuned_on == "slice:tune"
    assert fusion.method in ("rrf", "minmax")
    assert fusion.tune_queries + fusion.holdout_queries == 30
    assert set(fusion.scores) >= {"tune_ndcg@10_tuned", "holdout_ndcg@10_tuned"}


def test_hard_negatives_were_mined_from_the_live_version(tuned: Tuned) -> None:
    """Most pairs trained with a negative from the published version's hybrid ranking."""
    assert tuned.meta["training"]["pairs_with_negative"] >= tuned.meta["train_pairs"] // 2


def test_hard_negatives_without_a_way_to_open_the_live_version_is_a_typed_error(
    tuned: Tuned,
) -> None:
    """Mining needs the published version: a clear FinetuneError, nothing trained."""
    from rag_pipelines.pipeline.tuning.finetune import FinetuneError, finetune_embedding

    settings = tuned.config.embedding.finetune
    assert settings is not None
    other = settings.model_copy(update={"output": "other"})
    config = tuned.config.model_copy(
        update={"embedding": tuned.config.embedding.model_copy(update={"finetune": other})}
    )
    with pytest.raises(FinetuneError, match="publish a version first"):
        finetune_embedding(PipelineContext(config))
    assert not (tuned.tmp / "data" / "models" / "other").exists()


def test_leave_out_trains_on_the_tuning_queries_outside_the_fold(tuned: Tuned) -> None:
    """Cross-fitting: the fold's queries are not trained on (max_queries alone would keep 20)."""
    from rag_pipelines.evaluation.crossfit import Fold
    from rag_pipelines.evaluation.golden import load_beir
    from rag_pipelines.pipeline.tuning.finetune import finetune_embedding, load_finetune_record

    settings = tuned.config.embedding.finetune
    assert settings is not None
    plain = settings.model_copy(update={"output": "fold0_out", "hard_negatives": False})
    config = tuned.config.model_copy(
        update={"embedding": tuned.config.embedding.model_copy(update={"finetune": plain})}
    )
    report = finetune_embedding(PipelineContext(config), leave_out=Fold(0))
    tune, _ = load_beir(plain.queries, plain.qrels).split(plain.holdout_fraction, plain.seed)
    outside = [q for q in tune.queries if not Fold(0).contains(q)]
    ignoring_the_fold = min(len(tune.queries), plain.max_queries or len(tune.queries))
    assert 0 < len(outside) < ignoring_the_fold  # so the count below can tell them apart
    assert report.record.train_queries == len(outside)
    assert not report.reused and Path(report.record.model_path).name == "fold0_out"
    assert load_finetune_record(tuned.model_dir) != report.record  # the full model is kept
