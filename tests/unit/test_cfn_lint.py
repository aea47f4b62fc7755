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


@pytest.mark.parametrize("scenario", ["oneway-3", "kms-2"])
def test_scenarios_are_lint_clean(synth, scenario):
    assert _lint_app(synth(SCENARIOS[scenario])) == []


def _shape(value):
    """The template with every string blanked: what is left is its structure (types, keys, counts)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "" if isinstance(value, str) else value


def test_17_region_app_is_lint_clean(synth):
    """Every bucket and access-point template with its own Region. The 17 replication templates differ only in
    names and Regions (asserted below), so one of them is linted against all 17 Regions: the Region-dependent checks
    (resource and property availability) run for each Region at a fraction of the cost (~1 s per template)."""
    app = synth(SCENARIOS["mesh-17"])
    findings = []
    replication = [n for n in app.stack_names if "-replication-" in n]
    for name in app.stack_names:
        if name in replication:
            continue
        findings += [f"{name}: {m}" for m in lint(json.dumps(app.template_json(name)), rules=RULES,
                                                  config=ManualArgs(regions=[app.region_of(name)],
                                                                    ignore_checks=IGNORED))]
    shapes = {json.dumps(sorted(json.dumps([r["Type"], _shape(r.get("Properties", {}))], sort_keys=True)
                                for r in app.template_json(n)["Resources"].values())) for n in replication}
    assert len(shapes) == 1, "replication templates must differ only in names and Regions"
    findings += [f"{replication[0]}: {m}" for m in lint(
        json.dumps(app.template_json(replication[0])), rules=RULES,
        config=ManualArgs(regions=sorted({app.region_of(n) for n in replication}), ignore_checks=IGNORED))]
    assert findings == []


def test_lint_catches_a_broken_template():
    """Guards the guard: a template with a bad property must produce findings."""
    broken = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": "on"}}}}
    assert lint(json.dumps(broken), rules=RULES, config=ManualArgs(regions=["us-east-1"]))
