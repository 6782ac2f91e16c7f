# Two commands matter: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-unit test-http test-browser bench bench-readme messages lint clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUNTIME): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

run: $(RUNTIME)
	$(BIN)/clinic migrate
	$(BIN)/clinic init
	$(BIN)/clinic serve

# Two workers (pytest-xdist) for the tiers that mostly wait (on a database, a server, a browser); the fault
# tier alone, as it stops and restarts servers and PostgreSQL and times what it sees.
PYTEST_WORKERS ?= 2
test: $(DEV)
	$(BIN)/ruff check clinic tests bench
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal tests/unit tests/http tests/fuzz tests/load
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist worksteal tests/browser
	$(BIN)/python -m pytest -q tests/fault

test-unit: $(DEV)
	$(BIN)/python -m pytest -q tests/unit

test-http: $(DEV)
	$(BIN)/python -m pytest -q tests/http

test-browser: $(DEV)
	$(BIN)/python -m pytest -q tests/browser

bench: $(DEV)
	$(BIN)/python -m bench

# The same, and the table into README.md (a tracked file: only when asked).
bench-readme: $(DEV)
	$(BIN)/python -m bench --readme

# Extract translatable text and merge it into the Indonesian catalogue (then fill in msgstr;
# `$(BIN)/python -m clinic.i18n_tools missing` lists what is left). English is the source text: no catalogue.
messages: $(DEV)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -o clinic/locale/messages.pot --no-location --omit-header --width 110 .
	$(BIN)/pybabel update -i clinic/locale/messages.pot -d clinic/locale -l id --no-fuzzy-matching --ignore-obsolete --omit-header --width 110

lint: $(DEV)
	$(BIN)/ruff check clinic tests

clean:
	rm -rf $(VENV) .pytest_cache
