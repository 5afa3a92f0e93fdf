# Two commands for a fresh machine:  make run   |   make test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8501
# `make run` is the unauthenticated local mode: this machine only. A deployment picks its
# own address (ADDRESS=0.0.0.0, or STREAMLIT_SERVER_ADDRESS in its environment).
ADDRESS ?= $(or $(STREAMLIT_SERVER_ADDRESS),127.0.0.1)
# The suite runs every store test on SQLite and on this Postgres (trust auth, database `test`).
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
CHROMIUM ?= /usr/bin/chromium

.PHONY: run install dev-install chromium lint typecheck test test-fast bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

## Start the app on embedded defaults: ENV=local, SQLite under .data/, offline demo model, dev login,
## on http://127.0.0.1:$(PORT) only.
run: install
	$(VENV)/bin/streamlit run streamlit_app.py --server.address $(ADDRESS) --server.port $(PORT)

## Debian's Chromium for the browser tests (Playwright cannot download browsers here).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  echo "installing Debian chromium for the end-to-end tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

lint: dev-install
	$(VENV)/bin/ruff check assistant app_pages ui streamlit_app.py tests bench migrations
	$(VENV)/bin/ruff format --check assistant app_pages ui streamlit_app.py tests bench

typecheck: dev-install
	$(VENV)/bin/mypy assistant app_pages streamlit_app.py ui

## Whole suite: lint, types, unit + store (SQLite and Postgres) + AppTest + browser end-to-end.
test: dev-install chromium lint typecheck
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest -q

## Without the browser tests (quick loop while developing).
test-fast: dev-install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q -m "not e2e"

bench: dev-install
	$(PY) bench/turn_overhead.py --json
	$(PY) bench/session_store.py --json
	$(PY) bench/sessions_page.py --sessions 100000 --json
	$(PY) bench/ui_latency.py --json

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache tests/e2e/artifacts
