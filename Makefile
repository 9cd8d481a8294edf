# The two commands of the README. Each sets up its own virtual environment (.venv) first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= mlobs-demo
PYTEST_ARGS ?=

.PHONY: demo test lint clean-demo java

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
test: $(STAMP) java
	$(PY) -m pytest $(PYTEST_ARGS)

# The Spark engine's tests start a JVM: Debian's OpenJDK 17 when no Java is found.
java:
	@if [ -z "$$JAVA_HOME" ] && ! command -v java >/dev/null; then \
		sudo_cmd=""; if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo_cmd=sudo; fi; \
		$$sudo_cmd apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo_cmd apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; \
	fi

## ruff, and mypy (strict on the pure core: drift, correlate, diagnose, times).
lint: $(STAMP)
	$(UV) pip install --quiet --python $(PY) -e '.[lint]'
	$(VENV)/bin/ruff check mlobs_notebook tests benchmarks
	$(VENV)/bin/mypy

clean-demo:
	rm -rf $(DEMO)
