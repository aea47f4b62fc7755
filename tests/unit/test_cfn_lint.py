"""cfn-lint over every synthesized template, with the template's own Region (schemas ship with cfn-lint)."""

from __future__ import annotations

import functools
import json
import sys

import cfnlint.helpers
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from cfnlint.config import ConfigMixIn
from cfnlint.runner import Runner

from tests.conftest import ROOT
from tests.unit.test_app import SCENARIOS

IGNORED = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())["ignore_checks"]
#: Loading the rules costs more than linting a template; load them once.
RULES = Runner(ConfigMixIn(ignore_checks=IGNORED)).rules


def _cache_cfnlint_data() -> None:
    """cfn-lint re-reads its (read-only) data files, e.g. the 4 MB IAM service map, for every template;
    memoizing ``load_resource`` in the modules that imported it makes linting ~2.5x faster."""
    original = cfnlint.helpers.load_resource
    cached = functools.lru_cache(maxsize=None)(original)
    for name, module in list(sys.modules.items()):
        if name.startswith("cfnlint") and getattr(module, "load_resource", None) is original:
            module.load_resource = cached


_cache_cfnlint_data()


def _lint_app(app) -> list[str]:
    findings = []
    for name in app.stack_names:
        region = app.region_of(name)
        matches = lint(json.dumps(app.template_json(name)), rules=RULES,
                       config=ManualArgs(regions=[region], ignore_checks=IGNORED))
        findings += [f"{name} ({region}): {m}" for m in matches]
    return findings


def test_default_app_is_lint_clean(default_app):
    assert _lint_app(default_app) == []


@pytest.mark.parametrize("scenario", ["mesh-17", "oneway-3", "kms-2"])
def test_scenarios_are_lint_clean(synth, scenario):
    assert _lint_app(synth(SCENARIOS[scenario])) == []


def test_lint_catches_a_broken_template():
    """Guards the guard: a template with a bad property must produce findings."""
    broken = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": "on"}}}}
    assert lint(json.dumps(broken), rules=RULES, config=ManualArgs(regions=["us-east-1"]))
