# Formdesk developer tasks. Recipes are POSIX sh.
#   make run [PORT=5001]   development server with reloader and debugger; installs only what
#                          the service needs (requirements.txt)
#   make test              test suite on SQLite; again on PostgreSQL when CI or
#                          FORMDESK_TEST_POSTGRES_URL is set (test, lint, audit and bench
#                          install the tools of requirements-dev.txt too)
#   make test-fast         the inner loop (about 2.5 minutes): the tests marked neither browser,
#                          slow nor service (pyproject.toml; marks from the fixtures a test
#                          uses, tests/conftest_markers.py), on SQLite, 2 processes
#   make lint              ruff check + format check + the layers' import contracts
#   make audit             bandit (no high finding) and pip-audit of requirements.txt (.ci/audit)
#   make translations      compile translations/*/LC_MESSAGES/*.mo (run and test do it)
#   make messages          re-extract UI strings and update every catalog; then translate
#                          the empty msgstr in translations/*/LC_MESSAGES/messages.po
#   make clean             remove instance data and test artifacts (keeps .venv)
#   make bench             benchmarks (bench/run.py, ~12–20 minutes on 2 CPUs): writes BENCHMARKS.md;
#                          PostgreSQL on 127.0.0.1:5432 for its half (FORMDESK_BENCH_POSTGRES_URL)
#   make bench-quick       the same at small sizes (a few minutes), to bench/results/quick.md

PORT ?= 5000
VENV := .venv
PY := $(VENV)/bin/python
# What each kind of target needs is installed once, again when its requirements change.
SERVICE_STAMP := $(VENV)/.installed-service
TOOLS_STAMP := $(VENV)/.installed-tools
PYTEST := $(PY) -m pytest -n 2 -p no:cacheprovider
POSTGRES_URL_DEFAULT := postgresql+psycopg://postgres@127.0.0.1:5432/test
PYBABEL := $(VENV)/bin/pybabel
# axe-core for the browser accessibility tests, from npm (tests/js/package-lock.json).
AXE := tests/js/node_modules/axe-core/axe.min.js
# The extraction tests/test_translations.py repeats: keep the two in step.
EXTRACT := $(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	--project Formdesk --copyright-holder "Formdesk contributors"

.DEFAULT_GOAL := help
.PHONY: help venv venv-tools run test test-fast lint audit clean translations messages bench bench-quick

help:
	@echo "targets: run test test-fast lint audit clean translations messages bench bench-quick venv venv-tools   (make run PORT=5001)"

$(PY):
	python3 -m venv $(VENV)

$(SERVICE_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt, so the service's stamp is renewed too.
$(TOOLS_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(SERVICE_STAMP) $@

venv: $(SERVICE_STAMP)

venv-tools: $(TOOLS_STAMP)

# The .mo files are build artefacts (ignored by git), compiled from the committed .po files.
translations: venv
	$(PYBABEL) -q compile -d translations -f

messages: venv
	$(EXTRACT) -o translations/messages.pot .
	$(PYBABEL) -q update -i translations/messages.pot -d translations --no-fuzzy-matching
	@echo "now translate every empty msgstr in translations/*/LC_MESSAGES/messages.po, then make translations"

# Development: the reloader and debugger (FLASK_DEBUG), and no FLASK_SECRET_KEY needed
# (FLASK_FORMDESK_DEVELOPMENT: a random key kept in instance/development-secret-key).
run: venv translations
	FLASK_DEBUG=1 FLASK_FORMDESK_DEVELOPMENT=true \
		$(VENV)/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

# Without npm the accessibility tests skip locally (and fail on CI, where .ci/run installs it).
$(AXE): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund && touch $(AXE); \
	else \
		echo "npm not found: the browser accessibility tests will skip"; \
	fi

test: venv-tools translations $(AXE) audit
	@echo "== tests on SQLite"
	unset FORMDESK_TEST_DATABASE; $(PYTEST) tests
	@if [ -n "$${CI:-}" ] || [ -n "$${FORMDESK_TEST_POSTGRES_URL:-}" ]; then \
		echo "== tests on PostgreSQL"; \
		FORMDESK_TEST_DATABASE=postgresql \
		FORMDESK_TEST_POSTGRES_URL="$${FORMDESK_TEST_POSTGRES_URL:-$(POSTGRES_URL_DEFAULT)}" \
		$(PYTEST) tests; \
	else \
		echo "== PostgreSQL run skipped (set CI or FORMDESK_TEST_POSTGRES_URL)"; \
	fi

# No chromium, no server process, no Redis: what a change needs first, before `make test`.
test-fast: venv-tools translations
	unset FORMDESK_TEST_DATABASE; $(PYTEST) -m "not browser and not slow and not service" tests

audit: venv-tools
	VENV=$(VENV) sh .ci/audit

bench: venv-tools translations
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: venv-tools translations
	$(PY) -m bench.run --quick $(BENCH_ARGS)

lint: venv-tools
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

clean:
	rm -rf instance test-results .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
