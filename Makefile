# wslab: two commands on a fresh machine (Python 3.11+ and make are all it needs).
#   make test       set up .venv, then ruff + mypy + unit/integration tests + nbval (quick mode)
#   make reproduce  set up .venv, then execute every notebook in full mode (figures, data)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.wslab-installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: setup test lint typecheck unit nbval reproduce benchmarks clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check .

# Types: the settings are [tool.mypy] in pyproject.toml.
typecheck: setup
	$(BIN)/mypy wslab

# One pytest session: unit + integration tests and every notebook under nbval,
# in two worker processes (pytest-xdist): most tests wait on real servers and
# timers, so two workers halve the wall time on two cores (three were faster
# still, but loaded the machine enough to break the packet-capture check). --dist loadfile
# keeps a file (a notebook's cells, a module's fixtures) on one worker.
# The order of prerequisites is the order they run in (no make -j here).
test: setup lint typecheck
	WSLAB_QUICK=1 $(BIN)/python -m pytest tests $(NOTEBOOKS) --nbval-lax -p no:cacheprovider \
	  -n 2 --dist loadfile

# Fresh measurements by default: the committed reference runs are removed first
# (git keeps them). WSLAB_REUSE=1 make reproduce resumes, reusing complete runs.
reproduce: setup
	@if [ "$${WSLAB_REUSE:-0}" != 1 ]; then rm -rf data/runs; fi
	@for nb in $(NOTEBOOKS); do \
	  echo "== $$nb (full mode)"; start=$$(date +%s); \
	  WSLAB_QUICK=0 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=3600 "$$nb" || exit 1; \
	  echo "== $$nb: $$(( $$(date +%s) - start )) s"; \
	done
	@echo "figures in figures/, runs in data/runs/"

benchmarks: setup
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(BIN)/python "$$b" || exit 1; done

clean:
	rm -rf data/quick-runs figures/quick .pytest_cache
