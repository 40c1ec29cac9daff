# Formdesk developer tasks. Recipes are POSIX sh.
#   make run [PORT=5001]   development server with reloader and debugger
#   make test              test suite on SQLite; again on PostgreSQL when CI or
#                          FORMDESK_TEST_POSTGRES_URL is set
#   make lint              ruff check + format check
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
STAMP := $(VENV)/.installed
PYTEST := $(PY) -m pytest -n 2 -p no:cacheprovider
POSTGRES_URL_DEFAULT := postgresql+psycopg://postgres@127.0.0.1:5432/test
PYBABEL := $(VENV)/bin/pybabel
# axe-core for the browser accessibility tests, from npm (tests/js/package-lock.json).
AXE := tests/js/node_modules/axe-core/axe.min.js
# The extraction tests/test_translations.py repeats: keep the two in step.
EXTRACT := $(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	--project Formdesk --copyright-holder "Formdesk contributors"

.DEFAULT_GOAL := help
.PHONY: help venv run test lint audit clean translations messages bench bench-quick

help:
	@echo "targets: venv run test lint audit clean translations messages bench bench-quick   (make run PORT=5001)"

$(PY):
	python3 -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# The .mo files are build artefacts (ignored by git), compiled from the committed .po files.
translations: venv
	$(PYBABEL) -q compile -d translations -f

messages: venv
	$(EXTRACT) -o translations/messages.pot .
	$(PYBABEL) -q update -i translations/messages.pot -d translations --no-fuzzy-matching
	@echo "now translate every empty msgstr in translations/*/LC_MESSAGES/messages.po, then make translations"

run: venv translations
	FLASK_DEBUG=1 $(VENV)/bin/flask --app app run --host 127.0.0.1 --port $(PORT)

# Without npm the accessibility tests skip locally (and fail on CI, where .ci/run installs it).
$(AXE): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund && touch $(AXE); \
	else \
		echo "npm not found: the browser accessibility tests will skip"; \
	fi

test: venv translations $(AXE) audit
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

audit: venv
	VENV=$(VENV) sh .ci/audit

bench: venv translations
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: venv translations
	$(PY) -m bench.run --quick $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

clean:
	rm -rf instance test-results .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
