"""The package roots: ``mrap_constructs`` imports its public names eagerly (type checkers see real signatures) and
nothing of the emulator; ``mrap_runtime`` (the CLI, the handlers) imports no aws-cdk-lib."""

from __future__ import annotations

import subprocess
import sys

import mrap_constructs
from tests.conftest import ROOT


def _loaded(statement: str) -> set[str]:
    probe = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_importing_the_constructs_loads_no_emulator_and_no_boto3(fresh_imports):
    loaded = fresh_imports["mrap_constructs"]
    assert "aws_cdk" in loaded and "mrap_constructs.mrap_set" in loaded  # eager: the real modules are loaded
    assert not {m for m in loaded if m.split(".")[0] in ("moto", "cryptography", "boto3", "botocore", "werkzeug")}
    assert not {m for m in loaded if m.startswith("mrap_constructs.testing")}


def test_the_runtime_loads_no_aws_cdk():
    loaded = _loaded("import mrap_runtime.cli, mrap_runtime.handlers.routes")
    assert "boto3" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("aws_cdk", "jsii", "constructs", "mrap_constructs")}


def test_every_public_name_is_a_real_attribute():
    assert not hasattr(mrap_constructs, "__getattr__")  # no lazy module attributes a type checker cannot see
    for name in mrap_constructs.__all__:
        assert getattr(mrap_constructs, name) is not None, name


def test_earlier_module_names_are_the_runtime_modules():
    import mrap_constructs.handlers.routes
    import mrap_constructs.ops.client
    import mrap_constructs.regions
    import mrap_runtime.client
    import mrap_runtime.handlers.routes
    import mrap_runtime.regions

    assert mrap_constructs.ops.client is mrap_runtime.client
    assert mrap_constructs.regions is mrap_runtime.regions
    assert mrap_constructs.handlers.routes is mrap_runtime.handlers.routes
