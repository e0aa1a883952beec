# The README's two commands: `make demo` and `make test`. Both create .venv when it is
# missing (or pyproject.toml changed) and install MycoPod with its dev extras.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: openapi-cache bytecode demo test lint typecheck test-unit test-integration test-browser test-acceptance test-all bench clean help promtool

help:
	@echo "make demo   run MycoPod on embedded defaults (PostgreSQL, Proxmox simulator, local repo)"
	@echo "make test   ruff, mypy and every test (what CI runs)"
	@echo "make test-unit         the pure tests alone, in seconds (no database, no network)"
	@echo "make test-integration  real PostgreSQL, git, HTTP and the simulator"
	@echo "make test-acceptance   mycopod run as a user runs it, in subprocesses"
	@echo "make bench  run the benchmarks (JSON figures)"

# uv (from PyPI, into the venv) installs the dev extras several times faster than pip; if
# uv cannot be installed or fails, pip installs them. The venv's own pip (Python 3.11's
# ensurepip, >= 23) is new enough for editable installs and for `pip --python`
# (tests/support/wheel.py), so it is not upgraded.
PIP := $(BIN)/python -m pip --disable-pip-version-check
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(PIP) install --quiet 'uv>=0.4,<1'; then \
	    echo "$(BIN)/uv pip install -e '.[dev]'"; \
	    $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]' \
	    || { echo "uv failed: installing with pip"; $(PIP) install --quiet -e '.[dev]'; }; \
	else \
	    echo "uv could not be installed: installing with pip"; \
	    $(PIP) install --quiet -e '.[dev]'; \
	fi
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mycopod demo

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard controller tests bench)

typecheck: $(STAMP)
	$(BIN)/mypy

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# GitHub's REST description (@octokit/openapi, pinned and integrity-checked) for the forge
# stand-in, downloaded once into .cache/ (git-ignored)
openapi-cache: $(STAMP)
	$(BIN)/python -m tests.support.github_openapi

# With PYTHONDONTWRITEBYTECODE set (as on the shared CI machine), every process the tests
# start (daemons, CLI runs, the simulator, spawned compile workers) compiled the package
# from source again: ~0.2 s of CPU and ~0.5 s on the loaded machine each, hundreds of
# times. compileall writes the bytecode once (~1 s; __pycache__ is git-ignored), whatever
# that variable says, and every later import reads it.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q controller tests

test-integration: $(STAMP) openapi-cache bytecode
	$(BIN)/pytest -q tests/integration

# Playwright driving Debian's chromium (apt-get install chromium; nothing is downloaded)
test-browser: $(STAMP)
	$(BIN)/pytest -q tests/browser

test-acceptance: $(STAMP) bytecode
	$(BIN)/pytest -q tests/acceptance

# every test in one pytest run (one embedded PostgreSQL for all of them)
test-all: $(STAMP) openapi-cache bytecode
	$(BIN)/pytest -q

test: lint typecheck test-all

# config/prometheus/alerts.yml (also run by make test, in tests/integration/test_monitoring.py)
promtool:
	promtool check rules config/prometheus/alerts.yml
	cd config/prometheus && promtool test rules alerts_test.yml

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
