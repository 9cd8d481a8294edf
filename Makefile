# The two commands of the README. Each sets up its own virtual environment (.venv) first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= mlobs-demo
PYTEST_ARGS ?=

.PHONY: demo test lint clean-demo

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	# compile bytecode now: PYTHONDONTWRITEBYTECODE=1 (set on our machines) would otherwise make
	# every test process recompile MLflow (~15 s each)
	env -u PYTHONDONTWRITEBYTECODE $(UV) pip install --quiet --compile-bytecode --python $(PY) -e '.[test]'
	touch $(STAMP)

## Build the demo world and run the main job on it.
demo: $(STAMP)
	$(VENV)/bin/mlobs demo --out $(DEMO) --force

## Every test, notebooks included.
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## ruff, and mypy (strict on the pure core: drift, correlate, diagnose, times).
lint: $(STAMP)
	$(UV) pip install --quiet --python $(PY) -e '.[lint]'
	$(VENV)/bin/ruff check mlobs_notebook tests benchmarks
	$(VENV)/bin/mypy

clean-demo:
	rm -rf $(DEMO)
