# The two commands: `make run` (the local stack) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM_BIN := $(SAM_VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint template pytest bench chaos token replay-fanout-dlq build clean

run: $(VENV)/.installed  ## start the local stack in the foreground (Ctrl-C stops it)
	$(BIN)/python -m devstack

test: lint template pytest  ## lint, template checks, unit + integration + e2e tests

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

template: $(SAM_VENV)/.installed
	$(SAM_BIN)/cfn-lint template.yaml
	$(SAM_BIN)/sam validate --lint
	$(SAM_BIN)/sam build --parallel

pytest: $(VENV)/.installed
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench

chaos: $(VENV)/.installed  ## the chaos ledger, long: thousands of events, faults everywhere
	CHAOS_EVENTS=$(or $(CHAOS_EVENTS),2000) $(BIN)/python -m pytest tests/e2e/test_chaos.py -s -p no:cacheprovider

token: $(VENV)/.installed  ## a development bearer token for the local stack
	@$(BIN)/python -m devstack.token

# FanoutDLQ's events back on the bus: the local stack by default; on AWS e.g.
# make replay-fanout-dlq REPLAY_ARGS="--profile prod --stack blue-webhooks-prod"
REPLAY_ARGS ?= --endpoint-url http://127.0.0.1:$(or $(AWS_PORT),4566)
replay-fanout-dlq: $(VENV)/.installed  ## put FanoutDLQ's events back on the bus (after fixing the cause)
	$(BIN)/python -m devstack.replay $(REPLAY_ARGS)

build: template

$(VENV)/.installed: requirements-dev.txt layers/bluehooks/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_BIN)/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache
