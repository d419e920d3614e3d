# kindcity: `make run` serves the demo site; `make test` runs every test; `make test-fast` the unit
# tests (seconds); `make lint` runs ruff.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# PostgreSQL for the second test run: KINDCITY_TEST_DATABASE_URL, else the local server if it answers.
PG_DEFAULT := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install translations run test test-fast lint test-sqlite test-postgres test-stack extract-messages update-messages bench clean lock wheel vendor-portone

install: $(VENV)/.installed

# The locked versions (with hashes) first, then the project itself on top without resolving again.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# requirements.lock (what a server installs) and requirements-dev.lock (plus the tools of the tests):
# every version pinned with its hashes, at the versions installed here, i.e. the ones the tests ran.
# pyproject.toml keeps the ranges. Edit pyproject.toml, install, run the tests, then `make lock`.
LOCK = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --constraint=$(VENV)/tested-versions.txt
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > $(VENV)/tested-versions.txt
	$(LOCK) --output-file=requirements.lock pyproject.toml
	$(LOCK) --extra=dev --output-file=requirements-dev.lock pyproject.toml
	sed -i '/^    #   -c .*tested-versions.txt$$/d; s/^    # via -c .*tested-versions.txt$$/    # via (tested version)/' requirements.lock requirements-dev.lock

# The release: a wheel with the site's folders and the compiled catalogues inside (setup.py).
wheel: install
	rm -rf dist && $(PY) -m pip wheel --quiet --no-deps --wheel-dir dist .

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d kindcity/translations -D messages --statistics 2>&1 | tail -n 2

run: install translations
	$(BIN)/kindcity db upgrade
	$(BIN)/kindcity demo-data
	@echo "kindcity is serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(BIN)/kindcity run --host $(HOST) --port $(PORT)

test: install translations
	@$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$KINDCITY_TEST_DATABASE_URL" ] || $(PY) -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',5432)))"; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		if [ "$$CI" = "true" ]; then echo "CI: PostgreSQL is required but not reachable"; exit 1; fi; \
		echo "PostgreSQL not reachable on 127.0.0.1:5432 and KINDCITY_TEST_DATABASE_URL unset: ran the SQLite suite only."; \
	fi

# The unit tests: the domain's rules and the pure helpers, no database server, no browser; seconds.
test-fast: install translations
	env -u KINDCITY_TEST_DATABASE_URL $(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

# ruff with the small rule set in pyproject.toml ([tool.ruff]); CI runs it before the tests.
lint: install
	$(BIN)/ruff check .

test-sqlite: install
	@echo "== tests on SQLite (with browser tests) =="
	env -u KINDCITY_TEST_DATABASE_URL $(PY) -m pytest -q -m "not postgres_only and not stack" $(PYTEST_ARGS)

test-postgres: install
	@echo "== tests on PostgreSQL =="
	KINDCITY_TEST_DATABASE_URL=$${KINDCITY_TEST_DATABASE_URL:-$(PG_DEFAULT)} $(PY) -m pytest -q -m "(not browser or postgres_only) and not stack" $(PYTEST_ARGS)

# The release and the whole stack: the wheel in a fresh venv, nginx with deploy/'s configuration in front
# of gunicorn, a job worker mailing a local SMTP server, headless Chromium through it; on PostgreSQL.
# Everything on loopback addresses (127.0.0.1-3), stopped at the end.
test-stack: install translations
	@echo "== release and stack tests (PostgreSQL) =="
	KINDCITY_TEST_DATABASE_URL=$${KINDCITY_TEST_DATABASE_URL:-$(PG_DEFAULT)} $(PY) -m pytest -q -m stack tests/stack $(PYTEST_ARGS)

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o kindcity/translations/messages.pot --no-location --sort-output --project kindcity .

update-messages: extract-messages
	$(BIN)/pybabel update -i kindcity/translations/messages.pot -d kindcity/translations -D messages --no-fuzzy-matching --ignore-obsolete

vendor-portone:
	scripts/vendor-portone-browser-sdk.sh

bench: install
	$(PY) bench/matching.py
	$(PY) bench/jobs.py

clean:
	rm -rf $(VENV) instance/kindcity.sqlite3 .pytest_cache
