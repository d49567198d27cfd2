# undersign — `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
export FLASK_APP := wsgi
PYTEST_ARGS ?= -q -p no:cacheprovider

.PHONY: packet-deps run install check test test-sqlite test-postgresql serve-prod worker bench vendor clean translations translations-update

# The compiled catalogues (git keeps the .po sources only).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) -e . 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import undersign" && touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[test]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import undersign, pytest, aiosmtpd, hypothesis, playwright" && touch $@ $(VENV)/.installed

install: $(VENV)/.installed $(CATALOGUES)

## The system libraries of the delivery packet (WeasyPrint): Pango, HarfBuzz, the Nanum Korean fonts, and
## poppler-utils (pdftotext, pdffonts) for its tests; from Debian, installed only when one is missing.
PACKET_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-nanum poppler-utils
packet-deps:
	@dpkg -s $(PACKET_DEBS) >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PACKET_DEBS) >/dev/null; }

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d translations -l $* --statistics

## Compiles translations/*/LC_MESSAGES/messages.po (done by run, test and serve-prod).
translations: $(CATALOGUES)

## Extracts every marked string (babel.cfg) into translations/messages.pot and merges it into each catalogue.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 --no-location --sort-output \
		--project undersign -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

## Installs into .venv, migrates the SQLite database, loads the demo data, serves http://127.0.0.1:5000
run: $(VENV)/.installed $(CATALOGUES)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	$(BIN)/flask --debug run --no-debugger --host 127.0.0.1 --port 5000

## The import contracts (pyproject.toml, [tool.importlinter]) and mypy --strict over platform/undersign.
check: $(VENV)/.installed-test $(CATALOGUES)
	PYTHONPATH=. $(BIN)/lint-imports --no-cache
	$(BIN)/mypy

## The checks, then the whole suite: SQLite, then PostgreSQL; Redis and browser tests included when reachable.
## With UNDERSIGN_REQUIRE_SERVICES=1 (CI) a missing service fails the run instead of skipping.
test: check packet-deps
	UNDERSIGN_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ "$$UNDERSIGN_REQUIRE_SERVICES" = 1 ] || $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 user=postgres dbname=postgres', connect_timeout=2).close()" 2>/dev/null; then \
		echo "== the same suite on PostgreSQL =="; \
		UNDERSIGN_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432: its pass is skipped here (CI runs it)."; \
	fi

test-sqlite: $(VENV)/.installed-test $(CATALOGUES) packet-deps
	UNDERSIGN_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgresql: $(VENV)/.installed-test $(CATALOGUES) packet-deps
	UNDERSIGN_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

## The production stack on one machine: migrations, then `flask worker` and gunicorn (gunicorn.conf.py)
## side by side; Ctrl-C stops both. Needs SECRET_KEY, DATABASE_URL (PostgreSQL) and REDIS_URL in the
## environment; UNDERSIGN_ENV defaults to production. See README, "Deploying".
serve-prod: $(VENV)/.installed $(CATALOGUES)
	@test -n "$$SECRET_KEY" -a -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || \
		{ echo "serve-prod needs SECRET_KEY, DATABASE_URL and REDIS_URL in the environment (README, Deploying)"; exit 2; }
	UNDERSIGN_ENV=$${UNDERSIGN_ENV:-production} $(BIN)/flask db upgrade
	@UNDERSIGN_ENV=$${UNDERSIGN_ENV:-production}; export UNDERSIGN_ENV; \
	$(BIN)/flask worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

## One background worker (RQ jobs and the mail outbox sweep); run as many as you like.
worker: $(VENV)/.installed
	$(BIN)/flask worker

## The benchmark (not part of the tests): PostgreSQL and Redis on loopback, wrk from Debian. README, "Benchmark".
bench: $(VENV)/.installed $(CATALOGUES)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## Copies the pinned third-party front-end assets (package.json) into static/vendor, and axe-core (for the
## browser tests' accessibility checks) into tests/vendor; the result is committed.
vendor:
	npm install --no-audit --no-fund
	mkdir -p static/vendor/pico
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/@picocss/pico/LICENSE.md static/vendor/pico/
	@# axe-core is for the accessibility checks of the browser tests only: no page of the site loads it.
	mkdir -p tests/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/vendor/axe-core/

clean:
	rm -rf $(VENV) instance/*.sqlite3* .pytest_cache
