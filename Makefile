# The README's two commands: `make demo` and `make test`. Both create .venv when it is
# missing (or pyproject.toml changed) and install MycoPod with its dev extras.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean help

help:
	@echo "make demo   run MycoPod on embedded defaults (PostgreSQL, Proxmox simulator, local repo)"
	@echo "make test   ruff, mypy and every test"
	@echo "make bench  run the benchmarks (JSON figures)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mycopod demo

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard controller tests bench)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
