# rag-pipelines — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCES ?= sources.yaml
# The Dagster UI's port (make dev PORT=3001: one UI per pipeline side by side).
PORT ?= 3000
# unstructured phones home on import unless told not to; we run offline.
export DO_NOT_TRACK := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.DEFAULT_GOAL := help
.PHONY: help install run test lint docs fmt dev serve bench eval loadtest clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@# unstructured's PDF code imports unstructured_inference; its own dependency list pulls
	@# torchvision (via timm), which breaks transformers here, so install it without deps.
	$(BIN)/pip install --quiet --no-deps -c constraints.txt unstructured-inference==1.6.14
	@touch $@

install: $(STAMP) ## Create .venv and install pinned dependencies

run: $(STAMP) ## Install, build the example index through Dagster and run a sample search
	$(BIN)/rag-pipelines --config $(SOURCES) validate
	$(BIN)/rag-pipelines --config $(SOURCES) materialize
	$(BIN)/rag-pipelines --config $(SOURCES) search "How many days can I work remotely?" --top-k 3
	$(BIN)/rag-pipelines --config $(SOURCES) status

lint: $(STAMP) ## ruff (lint + format check), mypy, and the import layers (import-linter)
	$(BIN)/ruff check rag_pipelines assets tests scripts
	$(BIN)/ruff format --check rag_pipelines assets tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## Apply ruff formatting and fixes
	$(BIN)/ruff format rag_pipelines assets tests scripts
	$(BIN)/ruff check --fix rag_pipelines assets tests scripts

docs: $(STAMP) ## Build the docs site offline into .rag/site (strict: a broken link fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: $(STAMP) lint docs ## Lint, the docs site, then the whole test suite (what CI runs)
	$(BIN)/pytest -q

dev: $(STAMP) ## Dagster UI + daemon on http://127.0.0.1:$(PORT), DAGSTER_HOME <data_dir>/dagster
	@# DAGSTER_HOME is the one the CLI uses for $(SOURCES) (its zero-setup SQLite instance is
	@# written on first use); Ctrl-C or SIGTERM stops the webserver, daemon and code servers.
	$(BIN)/rag-pipelines --config $(SOURCES) dev --port $(PORT)

serve: $(STAMP) ## Serve the published index over HTTP on 127.0.0.1:8000
	$(BIN)/rag-pipelines --config $(SOURCES) serve

bench: $(STAMP) ## Benchmarks (figures in docs/benchmarks.md, JSON in bench-results/); needs ../shared/data
	$(BIN)/python scripts/bench_embedding.py
	$(BIN)/python scripts/bench_refresh.py
	$(BIN)/python scripts/bench_latency.py
	$(BIN)/python scripts/bench_compare.py
	$(BIN)/python scripts/bench_build_eval.py --backend onnx

eval: $(STAMP) ## Retrieval quality on SciFact (figures in docs/benchmarks.md); needs ../shared/data
	$(BIN)/python scripts/eval_scifact.py
	@# onnx-int8 is a new model; what the retrieval_quality gate measured for it
	$(BIN)/python scripts/eval_backend_gate.py --backend onnx-int8
	@# The served recipe, fixed before its results: the plain fine-tune's 624 pairs
	@# + 640 inverse-cloze pairs from the corpus (eval_scifact.py keeps the plain recipe's rows)
	$(BIN)/python scripts/eval_finetune.py --pseudo-queries 640
	$(BIN)/python scripts/eval_levers.py
	$(BIN)/python scripts/eval_serve_finetuned.py --model .rag-eval/data/models/finetuned_pq \
		--out bench-results/serve_finetuned_pq.json
	@# Cross-fitted fusion (~26 min on 2 cores); EVAL_CROSSFIT=0 skips it
	@if [ "$(EVAL_CROSSFIT)" != 0 ]; then $(BIN)/python scripts/eval_crossfit.py; fi

loadtest: $(STAMP) ## 32 clients for 60 s against the service while a new version is published
	$(BIN)/python scripts/loadtest.py

clean: ## Remove the data dir and caches (keeps .venv)
	rm -rf .rag .pytest_cache .mypy_cache .ruff_cache
