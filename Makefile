# The README's commands. Each target sets up .venv itself (uv, then the locked dependencies).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
LOCK := requirements/test.lock
# Trust the machine's CA store (as pip and curl do) rather than uv's bundled roots, so installs
# work behind registries whose certificates only the system store knows.
export UV_SYSTEM_CERTS := 1

.PHONY: demo test lint typecheck unit bench lock clean

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

## test: lint, type-check and run the test suite
test: lint typecheck unit

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed
	$(BIN)/pytest

## bench: time and measure the provider's video download against a bare httpx copy (benchmarks/README.md)
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/download.py

## lock: re-resolve requirements/test.lock after changing dependencies in pyproject.toml
lock: | $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra test --python-version 3.11 -o $(LOCK)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
