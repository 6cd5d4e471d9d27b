# The two commands: `make run` (the local stack) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM_BIN := $(SAM_VENV)/bin
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

.PHONY: run test lint template pytest test-lanes bench chaos fuzz token replay-fanout-dlq build clean sam-env samples sam-invoke sam-api \
	sam-local-check

# The local stack enforces IAM with the roles SAM's transform generates: it runs in the SAM venv.
STACK_VENVS := $(VENV)/.installed $(SAM_VENV)/.installed

run: $(STACK_VENVS)  ## start the local stack in the foreground (Ctrl-C stops it); writes env.json for sam local
	SAM_ENV_FILE=$${SAM_ENV_FILE-env.json} $(BIN)/python -m devstack

test: lint template test-lanes  ## lint, template checks, unit + integration + e2e tests, sam local in Docker

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The three checks at once (each output whole, as it ends): cfn-lint with its own rules and the serverless ones
# (-a appends rules to cfn-lint's own: one run checks both), sam validate --lint, and sam build.
TEMPLATE_PARTS := template-cfn-lint template-validate template-build
.PHONY: $(TEMPLATE_PARTS)
template: $(SAM_VENV)/.installed
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(TEMPLATE_PARTS)

template-cfn-lint: $(SAM_VENV)/.installed
	$(SAM_BIN)/cfn-lint -a cfn_lint_serverless.rules -- template.yaml

template-validate: $(SAM_VENV)/.installed
	$(SAM_BIN)/sam validate --lint

template-build: $(SAM_VENV)/.installed
	$(SAM_BIN)/sam build --parallel

pytest: $(STACK_VENVS)  ## every test, one after another
	$(BIN)/python -m pytest

# make test's pytest and sam local check: every test of `make pytest`, in two lanes at once. The first lane runs the
# tests that wait on real clocks most (the local stack, receivers, a browser: tests/browser, tests/e2e, and the unit
# tests that time a deadline) as usual. The second runs beside it at the lowest CPU and I/O priority, so that it only
# takes what the first leaves idle (most of 2 cores: it mostly waits), with a longer per-test timeout: the tests that
# only compute (the other unit tests; infrastructure: sam build and package, SAM's transforms), then tests/integration
# (in-process handlers against their own emulator), then `make sam-local-check` (Docker; its waits are minutes long).
# The second lane's report follows the first one's.
TIMED_UNIT := tests/unit/test_deadline.py tests/unit/test_aws_deadline.py tests/unit/test_outbound.py
TIMED_TESTS := tests/browser tests/e2e $(TIMED_UNIT)
CALM_TESTS := tests/unit tests/infrastructure tests/integration $(addprefix --ignore=,$(TIMED_UNIT))
CALM_LOG := test-output/pytest-calm.log
NICE := nice -n 19 $(if $(shell command -v ionice),ionice -c 3)
test-lanes: $(STACK_VENVS)
	@mkdir -p $(dir $(CALM_LOG))
	@echo "pytest in two lanes: $(TIMED_TESTS) here; tests/unit (the rest), tests/infrastructure, tests/integration,"
	@echo "then sam-local-check beside it (niced), into $(CALM_LOG)"
	@( $(NICE) $(BIN)/python -m pytest -p no:cacheprovider --timeout=900 $(CALM_TESTS); tests=$$?; \
	   echo "$(BIN)/python -m devtools.samcheck --samples $(or $(SAMPLES),one)"; \
	   $(NICE) $(BIN)/python -m devtools.samcheck --samples $(or $(SAMPLES),one); check=$$?; \
	   test $$tests = 0 && test $$check = 0 ) > $(CALM_LOG) 2>&1 & calm=$$!; \
	$(BIN)/python -m pytest $(TIMED_TESTS); timed=$$?; \
	wait $$calm; calm=$$?; \
	echo "──── $(CALM_LOG): tests/unit (the rest), tests/infrastructure, tests/integration, sam-local-check ────"; cat $(CALM_LOG); \
	test $$timed = 0 && test $$calm = 0

bench: $(STACK_VENVS)  ## every benchmark beside its floor; writes the tables into docs/benchmarks.md
	$(BIN)/python -m bench --page

chaos: $(STACK_VENVS)  ## the chaos ledger, long: thousands of events, faults everywhere
	CHAOS_EVENTS=$(or $(CHAOS_EVENTS),2000) $(BIN)/python -m pytest tests/e2e/test_chaos.py -s -p no:cacheprovider

fuzz: $(STACK_VENVS)  ## schemathesis against the local API, long: 200 examples per operation and phase
	FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),200) $(BIN)/python -m pytest tests/e2e/test_local_stack.py -k generated_requests -p no:cacheprovider

token: $(VENV)/.installed  ## a development bearer token for the local stack
	@$(BIN)/python -m devtools.token

# A developer's first minutes (README, "The two commands"; docs/first-minutes.md): a checked tour on a stack of its own, and a
# receiver on the running `make run` stack, e.g. make listen LISTEN_ARGS="--events TODO_CREATED --project p1"
.PHONY: demo listen
demo: $(STACK_VENVS)  ## a scripted scenario on a local stack of its own; exits 0 only if every outcome is as expected
	$(BIN)/python -m devtools.demo

listen: $(VENV)/.installed  ## like `stripe listen`: a receiver with its own webhook; prints and verifies each delivery
	$(BIN)/python -m devtools.listen $(LISTEN_ARGS)

# sam local against the running local stack (docs/local-invoke.md; Docker needed, and `make build`).
sam-env: $(VENV)/.installed  ## env.json (sam local --env-vars) from the running local stack
	$(BIN)/python -m devtools.samenv

samples: $(VENV)/.installed  ## events/local/: the samples with a fresh token and ids from the running local stack
	$(BIN)/python -m devtools.samples

# SAM hands a container the credentials of its own session: dummy ones, for the emulator. Its own calls
# (STS, for AWS::AccountId) go to the emulator too. DeliveryTimeoutSeconds as a string: SAM looks the
# delivery timeout up in a mapping keyed by it.
SAM_LOCAL = AWS_ENDPOINT_URL=http://127.0.0.1:$(or $(AWS_PORT),4566) AWS_ACCESS_KEY_ID=testing \
	AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing $(SAM_BIN)/sam local
SAM_LOCAL_ARGS = --env-vars env.json --region us-east-1 \
	--parameter-overrides DeliveryTimeoutSeconds=$(or $(DELIVERY_TIMEOUT_SECONDS),7) $(SAM_ARGS)
sam-invoke: $(SAM_VENV)/.installed  ## make sam-invoke FUNCTION=FanoutFunction EVENT=events/local/fanout-todo-created.json
	$(SAM_LOCAL) invoke $(FUNCTION) --event $(EVENT) $(SAM_LOCAL_ARGS)

sam-api: $(SAM_VENV)/.installed  ## the API through sam local start-api, on SAM_API_PORT (default 3001)
	$(SAM_LOCAL) start-api --port $(or $(SAM_API_PORT),3001) $(SAM_LOCAL_ARGS)

# The real container path, on a local stack of its own (docs/local-invoke.md): Docker installed and
# started when absent, the stand-in Lambda image built once, then sam local invoke / start-api, each payload checked.
sam-local-check: $(STACK_VENVS)  ## sam local invoke (SAMPLES=all: every sample) and start-api in Docker
	$(BIN)/python -m devtools.samcheck --samples $(or $(SAMPLES),one)

# The replay and inspection tools (docs/operations.md, "Replay and inspection: `make ops`"), on the local stack
# unless ARGS names a deployed stack, e.g. make ops ARGS="pending --company acme --webhook wh_..."
# or make ops ARGS="redrive-deliveries --dry-run --profile prod --stack blue-webhooks-prod"
.PHONY: ops
ops: $(VENV)/.installed  ## python -m ops $(ARGS): redrive-deliveries, redrive-fanout, pending, tail
	AWS_PORT=$(or $(AWS_PORT),4566) $(BIN)/python -m ops $(or $(ARGS),--help)

# FanoutDLQ's events back on the bus (make ops ARGS=redrive-fanout): the local stack by default; on AWS e.g.
# make replay-fanout-dlq REPLAY_ARGS="--profile prod --stack blue-webhooks-prod"
REPLAY_ARGS ?= --endpoint-url http://127.0.0.1:$(or $(AWS_PORT),4566)
replay-fanout-dlq: $(VENV)/.installed  ## put FanoutDLQ's events back on the bus (after fixing the cause)
	$(BIN)/python -m ops redrive-fanout $(REPLAY_ARGS)

build: template

# Deploy from the docs alone (docs/operations.md): AWS_PROFILE and AWS_REGION say where, STAGE which samconfig stage.
# This Makefile's own us-east-1 (for the local stack) must not win over the profile's region: it is dropped here.
ON_AWS = $(if $(filter file,$(origin AWS_DEFAULT_REGION)),env -u AWS_DEFAULT_REGION) $(BIN)/python -m
.PHONY: deploy smoke
deploy: $(STACK_VENVS)  ## make deploy STAGE=dev: the stage's JWT key in SSM when absent, sam build + deploy, its API URL
	$(ON_AWS) devtools.deploy $(SAM_ARGS)  # STAGE from the environment: data, never shell text

smoke: $(VENV)/.installed  ## make smoke STAGE=dev RECEIVER=https://...: token, /health, a webhook, an event, its delivery
	$(ON_AWS) devtools.smoke  # STAGE and RECEIVER from the environment

# The first install is quiet: say so before it starts. pip installs uv (pinned) into each venv, and uv the
# pinned requirements: seconds instead of pip's minutes (its cache, ~/.cache/uv, makes the next time faster still).
# The venv keeps its pip (devtools/lambdaimage.py runs `python -m pip`).
UV_VERSION := 0.13.8
UV_INSTALL = pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: requirements-dev.txt layers/bluehooks/requirements.txt layers/bluehooks/pyproject.toml
	@echo "Installing the pinned dependencies into $(VENV) (once; under a minute)…"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/$(UV_INSTALL)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@echo "Installing the SAM CLI and cfn-lint into $(SAM_VENV) (once; under a minute)…"
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_BIN)/$(UV_INSTALL)
	$(SAM_BIN)/uv pip install --quiet --python $(SAM_BIN)/python -r requirements-sam.txt
	touch $@

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .ruff_cache
