# undersign — `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
export FLASK_APP := wsgi
PYTEST_ARGS ?= -q -p no:cacheprovider

.PHONY: run install test test-sqlite test-postgresql serve-prod worker bench vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e . 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import undersign" && touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import undersign, pytest, aiosmtpd, hypothesis, playwright" && touch $@ $(VENV)/.installed

install: $(VENV)/.installed

## Installs into .venv, migrates the SQLite database, loads the demo data, serves http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask --debug run --no-debugger --host 127.0.0.1 --port 5000

## The whole suite: SQLite, then PostgreSQL; Redis and browser tests included when reachable.
## With UNDERSIGN_REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping.
test: $(VENV)/.installed-test
	UNDERSIGN_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ "$$UNDERSIGN_REQUIRE_SERVICES" = 1 ] || $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 user=postgres dbname=postgres', connect_timeout=2).close()" 2>/dev/null; then \
		echo "== the same suite on PostgreSQL =="; \
		UNDERSIGN_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432: its pass is skipped here (CI runs it)."; \
	fi

test-sqlite: $(VENV)/.installed-test
	UNDERSIGN_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgresql: $(VENV)/.installed-test
	UNDERSIGN_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

## Copies the pinned third-party front-end assets (package.json) into static/vendor; the result is committed.
vendor:
	npm install --no-audit --no-fund
	mkdir -p static/vendor/pico
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md static/vendor/pico/

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
