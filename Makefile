# Two commands for a newcomer: `make lab` and `make test`. Both create .venv and install the
# project the first time; later runs skip the install unless pyproject.toml changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-all lint bench gpu-check assignments checkpoints results families sync book figures explorer-shot clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# `make test` and `make figures` also install the optional Ray extra (about 500 MB, 20 s), for the
# sweep test and chapter 11; `make lab` does not install it.
SWEEP_STAMP := $(VENV)/.installed-sweep
$(SWEEP_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,sweep]'
	@touch $(SWEEP_STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=chapters $(ROOT_FLAG)

# The whole suite in fast mode: unit and learning tests, every chapter under nbval. Two workers
# with one thread each use two cores without oversubscribing them.
# Exit status 5 ("no tests ran") is not a failure.
NOTEBOOKS := $(wildcard chapters/[0-9][0-9]_*.ipynb chapters/answers/[0-9][0-9]_answers.ipynb)
TEST_ENV := NGPU_FAST=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
test: $(SWEEP_STAMP)
	bash tests/browser_setup.sh
	$(TEST_ENV) $(PY) -m pytest -q -n 2 --dist loadfile --nbval-lax tests $(NOTEBOOKS); \
	rc=$$?; if [ $$rc -eq 5 ]; then rc=0; fi; exit $$rc

# Also the slow checks (2000-bit evaluation of shipped checkpoints).
test-all: $(SWEEP_STAMP)
	$(TEST_ENV) $(PY) -m pytest -q -n 2 --dist loadfile --nbval-lax -m "slow or not slow" tests $(NOTEBOOKS)

lint: $(STAMP)
	$(VENV)/bin/ruff check ngpu_lite tests benchmarks book assignments/*.py chapters/*.py chapters/answers/*.py

# Re-pair every chapter's .ipynb with its edited .py source (the .py wins).
sync: $(STAMP)
	for f in chapters/[0-9][0-9]_*.py; do $(VENV)/bin/jupytext --to ipynb --update -o $${f%.py}.ipynb $$f; done

# Re-execute every chapter in the default mode and store its outputs, writing the book's own
# figures/ (a reader's run of a chapter writes figures/local/ instead). Slow: minutes per chapter.
figures: $(SWEEP_STAMP)
	cd chapters && for f in [0-9][0-9]_*.ipynb; do NGPU_FIGURES=repo OMP_NUM_THREADS=1 ../$(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=3600 $$f || exit 1; done

# Chapter 8's stored picture of the explorer: the browser test runs the chapter in JupyterLab
# (headless Chromium) and saves the explorer's widgets at the last step.
explorer-shot: $(STAMP)
	bash tests/browser_setup.sh
	NGPU_EXPLORER_SHOT=$(CURDIR)/figures/ch08_explorer.png $(PY) -m pytest -q -m browser tests/test_browser.py

# The chapters, with their stored outputs, as a static site: open _build/html/index.html.
book: $(STAMP)
	$(PY) -m book.build

# Performance measurements: writes figures/benchmark.json and a figure (see benchmarks/README.md).
bench: $(STAMP)
	$(PY) -m benchmarks.run

# On a machine with a CUDA GPU: every notebook under nbval on the GPU, the 2016 model's training
# step and a 2000-bit addition timed there; writes figures/gpu_check.json with the card's name.
# Without CUDA it stops with "no CUDA device" (exit code 2).
gpu-check: $(STAMP)
	$(PY) -m benchmarks.gpu_check

# Retrain every shipped checkpoint with its recipe, every phase capped by steps (hours on a laptop
# CPU; runs resume from runs/zoo). `make checkpoints TASKS=copy OUT=DIR` re-makes just the named
# models into DIR (DIR/copy.pt with its manifest; runs in DIR/runs), leaving the shipped ones alone.
TASKS ?=
OUT ?=
checkpoints: $(STAMP)
	$(PY) -m ngpu_lite.results.zoo build $(if $(TASKS),--tasks $(TASKS),--baseline) $(if $(OUT),--out $(OUT))

results: $(STAMP)
	$(PY) -m ngpu_lite.results.zoo results

# The shipped models on structured families of inputs (long carries, leading zeros, runs, ...) at
# 20, 200 and 2000 bits: figures/families.{json,md,png}. Slow: 2000-bit cases take 10-45 s each.
families: $(STAMP)
	$(PY) -m ngpu_lite.results.families_table

# Student versions of the course assignments into assignments/release/ (see assignments/README.md).
assignments: $(STAMP)
	$(PY) -m assignments.build

clean-venv:
	rm -rf $(VENV)
