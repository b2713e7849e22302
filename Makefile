# Switchboard: `make run` starts the studio, `make test` runs the whole suite.
# Needs only Python 3.11 on the machine; everything else comes from requirements.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# honcho hands each process its own $$PORT (web: PORT, worker: PORT+100, ...), so the
# web port and the sandbox origin the worker calls are passed under names of their own.
WEB_PORT := $(PORT)
SWITCHBOARD_SANDBOX_ORIGIN ?= http://127.0.0.1:$(PORT)
export HOST PORT WEB_PORT SWITCHBOARD_SANDBOX_ORIGIN

.PHONY: run test lint format venv migrate demo static clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py sync_schedules

demo: migrate
	$(BIN)/python manage.py seed_demo

static: venv
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# web + worker + beat in the foreground under honcho (studio/supervisor.py); Ctrl-C or SIGTERM
# stops all three. `exec` makes honcho the recipe's process, so a signal sent to it reaches the supervisor.
run: demo static
	@$(BIN)/python manage.py run_banner
	exec $(BIN)/python -m studio.supervisor start --env /dev/null -f Procfile

# The whole suite in three parts that together hold every test once: the unit, API and page
# tests on two processes (pytest-xdist; each process gets its own test database and Redis db),
# then the browser and real-worker tests, then the fault tests (tests/reliability), one at a
# time because they time what they see. Every part runs even if one before it failed.
# PYTEST_ARGS="..." runs just that, in one process; TEST_REPORT adds flags to all three parts.
test: venv
ifdef PYTEST_ARGS
	$(BIN)/python -m pytest $(PYTEST_ARGS)
else
	@status=0; \
	$(BIN)/python -m pytest -n 2 -m "not worker and not browser" --ignore=tests/reliability $(TEST_REPORT) || status=1; \
	$(BIN)/python -m pytest -m "worker or browser" --ignore=tests/reliability $(TEST_REPORT) || status=1; \
	$(BIN)/python -m pytest tests/reliability $(TEST_REPORT) || status=1; \
	exit $$status
endif

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict --ignore-missing-imports integrations/engine integrations/canonical integrations/connectors integrations/deliveries
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/ .pytest_cache .ruff_cache
