# Kizuna: `make run` serves a demo community, `make test` runs lint, types and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint types pytest i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/kizuna migrate upgrade
	$(BIN)/kizuna demo --if-empty
	$(BIN)/kizuna serve --host 127.0.0.1 --port 8000

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(DEV_STAMP)
	$(BIN)/mypy

pytest: $(DEV_STAMP)
	$(BIN)/pytest

test: lint types pytest

# Re-extract translatable strings and merge them into the catalogues.
i18n: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o app/locale/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i app/locale/messages.pot -d app/locale --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
