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
# pytest-xdist workers. Much of the suite waits (browsers, servers, the demo model's pacing, Postgres):
# two workers on two cores. Three were ~2 min faster (15.5 min against 17.3) but starved the browser
# tests: one clean clone in three failed three of them on time (a 20 s click, a download, a style
# read before it applied). Files stay whole on one worker (--dist loadfile), so a module's Streamlit
# server starts once; the longest files go first (tests/fixtures/order.py), so the workers end
# together. TEST_WORKERS=0: serially.
TEST_WORKERS ?= 2
PYTEST_WORKERS := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

# Installs come from the lock files (exact versions + hashes, `pip install --require-hashes`).
# requirements*.txt keep the compatible bounds and are the source: after editing one, `make lock`.
LOCK_TOOLS := $(VENV)/lock-tools
PIP_COMPILE := $(LOCK_TOOLS)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

.PHONY: run bytecode install dev-install lock lock-upgrade lock-check audit chromium lint typecheck test suite test-fast bench clean

## The locks were made from the requirements*.txt in the tree: each lock ends with the sha256
## of its source file(s), written by `make lock`; any edit to a source without `make lock`
## fails here, naming the file, instead of installing something else.
lock-check:
	@ok=1; \
	for pair in requirements.txt:requirements.lock requirements-dev.txt:requirements-dev.lock; do \
	  src=$${pair%%:*}; lock=$${pair##*:}; want=$$(cat requirements.txt $$src | sha256sum | cut -c1-64); \
	  grep -q "^# source sha256: $$want$$" $$lock || { echo "$$lock is not up to date with $$src: run make lock" >&2; ok=0; }; \
	done; [ $$ok = 1 ]

$(VENV)/.installed: requirements.lock requirements.txt
	@$(MAKE) --no-print-directory lock-check
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock requirements-dev.txt $(VENV)/.installed
	$(PIP) install -q --require-hashes -r requirements-dev.lock
	touch $@

$(LOCK_TOOLS)/.installed:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install -q "pip-tools==7.7.0" "pip-audit==2.10.1"
	touch $@

## Re-pin after editing requirements*.txt: keeps every existing pin that still fits and adds
## what is new (`make lock-upgrade` moves every package to the newest version within bounds).
lock: $(LOCK_TOOLS)/.installed
	$(PIP_COMPILE) $(LOCK_FLAGS) -o requirements.lock requirements.txt
	echo "# source sha256: $$(cat requirements.txt requirements.txt | sha256sum | cut -c1-64)" >> requirements.lock
	$(PIP_COMPILE) $(LOCK_FLAGS) -c requirements.lock -o requirements-dev.lock requirements-dev.txt
	echo "# source sha256: $$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-64)" >> requirements-dev.lock
	@$(MAKE) --no-print-directory lock-check && echo "locks updated: commit requirements.lock requirements-dev.lock"

lock-upgrade:
	$(MAKE) lock LOCK_FLAGS=--upgrade

## Known vulnerabilities in the locked versions (PyPI's advisory data). Not part of `make test`.
## Fails (exit 2) when any package could not be checked - e.g. the advisory database is not
## reachable from this machine - instead of reporting "No known vulnerabilities found".
audit: $(LOCK_TOOLS)/.installed
	@set -o pipefail; out=$$(mktemp); \
	$(LOCK_TOOLS)/bin/pip-audit --strict --progress-spinner off --disable-pip --require-hashes \
	  -r requirements-dev.lock >"$$out" 2>&1; rc=$$?; \
	if [ $$rc -eq 0 ]; then cat "$$out"; echo "audit: every locked package checked, no known vulnerabilities"; \
	elif grep -q -E "could not be audited|ConnectionError|Max retries|Name or service not known|timed out" "$$out"; then \
	  grep -v "^WARNING" "$$out" | tail -5; \
	  echo ""; echo "AUDIT FAILED: locked packages could not be checked against the vulnerability database"; \
	  echo "(not reachable from here; pip-audit --strict stops at the first one). This is NOT a clean result."; \
	  rm -f "$$out"; exit 2; \
	else cat "$$out"; echo "AUDIT FAILED: known vulnerabilities above (or pip-audit error, exit $$rc)"; rm -f "$$out"; exit 1; fi; \
	rm -f "$$out"

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

## The app's own modules as bytecode, as Python writes it on a first import unless
## PYTHONDONTWRITEBYTECODE is set (some machines and images set it): every start then loads
## bytecode instead of compiling ~100 modules (~70 ms of a cold start; up to date: ~0.2 s).
bytecode: install
	$(PY) -m compileall -q assistant ui app_pages migrations streamlit_app.py

## Start the app on embedded defaults: ENV=local, SQLite under .data/, offline demo model, dev login,
## on http://127.0.0.1:$(PORT) only.
run: install bytecode
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
	$(VENV)/bin/ruff format --check assistant app_pages ui streamlit_app.py tests bench migrations

typecheck: dev-install
	$(VENV)/bin/mypy assistant app_pages streamlit_app.py ui

## Whole suite: lint, types, unit + store (SQLite and Postgres) + AppTest + browser end-to-end.
## mypy runs beside pytest: alone it kept one core busy for ~45 s and left the other idle.
test: dev-install chromium lint
	@$(MAKE) --no-print-directory -j2 typecheck suite

suite: dev-install chromium
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) CHROMIUM_PATH=$(CHROMIUM) $(PY) -m pytest -q $(PYTEST_WORKERS)

## Without the browser tests (quick loop while developing).
test-fast: dev-install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q $(PYTEST_WORKERS) -m "not e2e"

bench: dev-install bytecode
	$(PY) bench/turn_overhead.py --json
	$(PY) bench/session_store.py --json
	$(PY) bench/sessions_page.py --sessions 100000 --json
	$(PY) bench/ui_latency.py --json
	$(PY) bench/ics_parse.py --json
	$(PY) bench/providers.py --json
	CHROMIUM_PATH=$(CHROMIUM) $(PY) bench/cold_start.py --json
	CHROMIUM_PATH=$(CHROMIUM) $(PY) bench/load.py --json

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache tests/e2e/artifacts
