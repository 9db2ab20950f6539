# The README's commands. Each target sets up .venv itself (uv, then the locked dependencies).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PLAYWRIGHT_VERSION := 1.64.1
LOCK := requirements/test.lock
# Trust the machine's CA store (as pip and curl do) rather than uv's bundled roots, so installs
# work behind registries whose certificates only the system store knows.
export UV_SYSTEM_CERTS := 1

.PHONY: demo test lint typecheck unit system-test browser-test bench lock clean dist package-check

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: without .pyc files `import airflow.sdk` takes twice as long.
$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet -r $(LOCK) -e .
	touch $@

## demo: run the showcase DAG end to end (the APIMart simulator unless APIMART_API_KEY is set)
demo: $(VENV)/.installed
	$(BIN)/python scripts/demo.py

## test: lint, type-check and run the test suite (it ends with the coverage figure)
test: lint typecheck unit

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed
	$(BIN)/pytest --cov --cov-report=term

## system-test: the production-shaped system test, about 15 min (tests/system/README.md): Postgres, Redis,
## CeleryExecutor with two workers and two triggerers, 200 mapped renders with faults, crashes, secrets
system-test: $(VENV)/.installed
	$(BIN)/pytest -m system tests/system

## browser-test: the UI in Debian's Chromium (apt-get install chromium) driven by Playwright, against a real
## Airflow API server; APIMART_SCREENSHOTS=docs/images/ui refreshes the docs' screenshots
browser-test: $(VENV)/.installed
	$(BIN)/uv pip install --python $(BIN)/python --quiet playwright==$(PLAYWRIGHT_VERSION)
	$(BIN)/pytest -m browser tests/browser

## bench: every benchmark in turn, quick settings, about 11 min (benchmarks/README.md); FULL=1 for 5,000 triggers
## and the full runs (about 35 min); SKIP_SCHEDULER=1 skips the one that starts airflow standalone
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/imports.py $(if $(FULL),,--repeat 9)
	$(BIN)/python benchmarks/hook_overhead.py
	$(BIN)/python benchmarks/spend_store.py $(if $(FULL),--cycles 2000 --history 200000)
	$(BIN)/python benchmarks/download.py $(if $(FULL),,--sizes 100MB,1GB --repeat 2)
	$(BIN)/python benchmarks/verify_copy.py $(if $(FULL),--repeat 5)
	$(BIN)/python benchmarks/ui_page.py $(if $(FULL),--repeat 15)
	$(BIN)/python benchmarks/media_stream.py $(if $(FULL),--repeat 5)
	$(BIN)/python benchmarks/trigger_scale.py $(if $(FULL),--full)
	$(if $(SKIP_SCHEDULER),@echo "worker_slots.py skipped (SKIP_SCHEDULER=1)",$(BIN)/python benchmarks/worker_slots.py $(if $(FULL),--full))

## docs: build the documentation site into docs/_build/html (warnings are errors, nitpicky references)
.PHONY: docs
DOCS_VENV := .venv-docs
DOCS_LOCK := requirements/docs.lock

# Its own virtualenv, made by .venv's uv: Sphinx never shares an environment with the test tools.
$(DOCS_VENV)/.installed: $(DOCS_LOCK) pyproject.toml | $(BIN)/uv
	$(BIN)/uv venv --quiet --clear --python $(PYTHON) $(DOCS_VENV)
	$(BIN)/uv pip install --python $(DOCS_VENV)/bin/python --quiet -r $(DOCS_LOCK) -e .
	touch $@

docs: $(DOCS_VENV)/.installed
	$(DOCS_VENV)/bin/sphinx-build -W --keep-going -n -b html docs docs/_build/html

## test-airflow-versions: the unit and integration tests on the older supported Airflows too (make
## test covers the newest); each from its own lock, requirements/airflow-<version>.lock
OLDER_AIRFLOWS := 3.1 3.2
.PHONY: test-airflow-versions
# Keep the marker: make would otherwise delete it as an intermediate file and reinstall every time.
.PRECIOUS: .venv-airflow-%/.installed

.venv-airflow-%/.installed: requirements/airflow-%.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv venv --quiet --clear --python $(PYTHON) .venv-airflow-$*
	$(BIN)/uv pip install --python .venv-airflow-$*/bin/python --compile-bytecode --quiet \
		-r requirements/airflow-$*.lock -e .
	touch $@

test-airflow-%: .venv-airflow-%/.installed
	.venv-airflow-$*/bin/pytest -q -p no:cacheprovider tests/unit tests/integration

test-airflow-versions: $(addprefix test-airflow-,$(OLDER_AIRFLOWS))

## dist: build what users install, the sdist and the wheel, into dist/ and check them with twine
BUILD_VENV := .venv-build
dist: | $(BIN)/uv
	$(BIN)/uv venv --quiet --clear --python $(PYTHON) $(BUILD_VENV)
	$(BIN)/uv pip install --python $(BUILD_VENV)/bin/python --quiet build twine
	rm -rf dist
	$(BUILD_VENV)/bin/python -m build --outdir dist .
	$(BUILD_VENV)/bin/twine check --strict dist/*

## package-check: install the built wheel (no checkout on the path) into a fresh virtualenv with the
## locked, released Airflow, and run a DAG from it against the simulator it ships
WHEEL_VENV := .venv-wheel
package-check: dist
	$(BIN)/uv venv --quiet --clear --python $(PYTHON) $(WHEEL_VENV)
	$(BIN)/uv pip install --python $(WHEEL_VENV)/bin/python --compile-bytecode --quiet \
		-c $(LOCK) "$$(ls dist/*.whl)[simulator]"
	cd / && $(CURDIR)/$(WHEEL_VENV)/bin/python $(CURDIR)/scripts/check_wheel.py

## lock: re-resolve every lock file after changing dependencies in pyproject.toml
lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra docs --python-version 3.11 -o $(DOCS_LOCK)
	for version in $(OLDER_AIRFLOWS); do \
		$(BIN)/uv pip compile pyproject.toml requirements/airflow-$$version.in --extra test \
			--python-version 3.11 -o requirements/airflow-$$version.lock; \
	done

clean:
	rm -rf $(VENV) $(DOCS_VENV) $(BUILD_VENV) $(WHEEL_VENV) .venv-airflow-* dist docs/_build .mypy_cache .ruff_cache .pytest_cache
