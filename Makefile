# kindcity: `make run` serves the demo site; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# PostgreSQL for the second test run: KINDCITY_TEST_DATABASE_URL, else the local server if it answers.
PG_DEFAULT := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install translations run test test-sqlite test-postgres extract-messages update-messages bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

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

test-sqlite: install
	@echo "== tests on SQLite (with browser tests) =="
	env -u KINDCITY_TEST_DATABASE_URL $(PY) -m pytest -q -m "not postgres_only" $(PYTEST_ARGS)

test-postgres: install
	@echo "== tests on PostgreSQL =="
	KINDCITY_TEST_DATABASE_URL=$${KINDCITY_TEST_DATABASE_URL:-$(PG_DEFAULT)} $(PY) -m pytest -q -m "not browser or postgres_only" $(PYTEST_ARGS)

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o kindcity/translations/messages.pot --no-location --sort-output --project kindcity .

update-messages: extract-messages
	$(BIN)/pybabel update -i kindcity/translations/messages.pot -d kindcity/translations -D messages --no-fuzzy-matching --ignore-obsolete

bench: install
	$(PY) bench/matching.py
	$(PY) bench/jobs.py

clean:
	rm -rf $(VENV) instance/kindcity.sqlite3 .pytest_cache
