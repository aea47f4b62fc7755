"""cfn-lint over every synthesized template, with the template's own Region (schemas ship with cfn-lint)."""

from __future__ import annotations

import functools
import json
import sys

import pytest
import yaml

from tests.conftest import ROOT
from tests.unit.test_app import SCENARIOS

IGNORED = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())["ignore_checks"]


@functools.cache
def _rules():
    """cfn-lint's rules, loaded on first use (importing cfn-lint and loading its rules costs ~1.4 s, more than linting
    a template: once per process, and only on the worker that lints; tests/conftest.py groups the tests that do)."""
    import cfnlint.api
    import cfnlint.helpers
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    rules = Runner(ConfigMixIn(ignore_checks=IGNORED)).rules
    _cache_cfnlint_data(cfnlint.helpers)  # once the rules' modules are loaded: they hold load_resource too
    return rules


def _cache_cfnlint_data(helpers) -> None:
    """cfn-lint re-reads its (read-only) data files, e.g. the 4 MB IAM service map, for every template;
    memoizing ``load_resource`` in the modules that imported it makes linting ~2.5x faster."""
    original = helpers.load_resource
    cached = functools.lru_cache(maxsize=None)(original)
    for name, module in list(sys.modules.items()):
        if name.startswith("cfnlint") and getattr(module, "load_resource", None) is original:
            module.load_resource = cached


def lint(template: str, regions: list[str], ignore: list[str] | None = None) -> list:
    """cfn-lint's findings for ``template`` (JSON) in ``regions``, with the project's ignored checks (``ignore``).

    What ``cfnlint.api.lint`` does, on the rules loaded once: given anything but a legacy ``RulesCollection`` (and
    ``Runner(...).rules`` is a ``Rules``), ``api.lint`` builds a new ``Runner``, which imports and instantiates every
    rule again, a third of the time of each call."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner.template.runner import run_template_by_data

    decoded, errors = decode_str(template)
    if errors:
        return errors
    config = ConfigMixIn(regions=regions, ignore_checks=IGNORED if ignore is None else ignore)
    return list(run_template_by_data(decoded, config, _rules()))


def _lint_app(app) -> list[str]:
    findings = []
    for name in app.stack_names:
        region = app.region_of(name)
        matches = lint(json.dumps(app.template_json(name)), [region])
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
    """Every template with its own Region. The stacks of one kind (bucket, replication) differ only in names and
    Regions (asserted below), so one template of each kind is linted against all the Regions of its kind: the
    Region-dependent checks (resource and property availability) run for each Region at a fraction of the cost."""
    app = synth(SCENARIOS["mesh-17"])
    kinds: dict[str, list[str]] = {}
    for name in app.stack_names:
        kinds.setdefault(name.removeprefix("mesh-all-").split("-")[0], []).append(name)
    assert {kind: len(names) for kind, names in kinds.items()} == {"bucket": 17, "replication": 17, "access": 1}
    findings = []
    for kind, names in kinds.items():
        shapes = {json.dumps(sorted(json.dumps([r["Type"], _shape(r.get("Properties", {}))], sort_keys=True)
                                    for r in app.template_json(n)["Resources"].values())) for n in names}
        assert len(shapes) == 1, f"{kind} templates must differ only in names and Regions"
        findings += [f"{names[0]}: {m}" for m in lint(
            json.dumps(app.template_json(names[0])), sorted({app.region_of(n) for n in names}))]
    assert findings == []


def test_lint_catches_a_broken_template():
    """Guards the guard: a template with a bad property must produce findings."""
    broken = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": "on"}}}}
    assert lint(json.dumps(broken), ["us-east-1"], ignore=[])
