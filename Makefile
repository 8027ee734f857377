# Everything a developer or CI runs. `make run` and `make test` do their own set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smarter_team
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# The embedded default's database: the ORM fallbacks and code paths PostgreSQL never takes.
TEST_SQLITE_URL ?= sqlite:///$(CURDIR)/var/test.sqlite3
# Two xdist workers: each has its own test database and Redis key space (settings_test.py).
XDIST ?= -n 2
PYTEST_ARGS ?=

.PHONY: install run test lint format check-deploy bench clean

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

## The agency on its embedded defaults: SQLite, embedded broker, heuristic brain, sandbox providers.
run: install
	$(PY) manage.py agency

## The test suite on PostgreSQL, then on SQLite (every test that touches the database and is not
## marked postgresql: the others just ran and would only run again), with Redis
## (started here when they are not running). Any red, or a run that collects no test (pytest's
## exit code 5), fails the target.
test: install
	bash scripts/services.sh
	[ -n "$$NO_BROWSER" ] || bash scripts/browser.sh
	mkdir -p var
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest --create-db -q $(XDIST) $(PYTEST_ARGS)
	DATABASE_URL=$(TEST_SQLITE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(VENV)/bin/pytest --create-db -q $(XDIST) -m "not postgresql" --db-only $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## What production settings demand: refuses to start without a secret key, passes the deploy checks.
check-deploy: install
	DJANGO_ENV=production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(60))') \
		DJANGO_ALLOWED_HOSTS=agency.example.com PUBLIC_BASE_URL=https://agency.example.com \
		$(PY) manage.py check --deploy --fail-level WARNING

## Each benchmark on a scratch database and a Redis DB of its own (they print figures, assert nothing).
BENCH_PG := postgres://postgres@127.0.0.1:5432
bench: install
	bash scripts/services.sh
	DATABASE_URL=$(BENCH_PG)/st_runtime REDIS_URL=redis://127.0.0.1:6379/3 $(PY) bench/runtime/run.py
	DATABASE_URL=$(BENCH_PG)/st_webhooks REDIS_URL=redis://127.0.0.1:6379/6 $(PY) bench/webhooks/run.py
	DJANGO_SETTINGS_MODULE=smarter_team.settings_test DATABASE_URL=$(BENCH_PG)/st_learning \
		REDIS_URL=redis://127.0.0.1:6379/4 $(PY) bench/learning/run.py
	DATABASE_URL=$(BENCH_PG)/st_chaos_send REDIS_URL=redis://127.0.0.1:6379/12 $(PY) bench/chaos_send/run.py
	DATABASE_URL=$(BENCH_PG)/st_llm_cost REDIS_URL=redis://127.0.0.1:6379/13 $(PY) bench/llm_cost/run.py
	DATABASE_URL=$(BENCH_PG)/st_dashboard REDIS_URL=redis://127.0.0.1:6379/14 $(PY) bench/dashboard/run.py
	DATABASE_URL=$(BENCH_PG)/st_funnel REDIS_URL=redis://127.0.0.1:6379/7 $(PY) bench/funnel/run.py

clean:
	rm -rf var/broker var/mail
