"""aws-cdk-lib's built-in template validation: the apps users synthesize pass it with no finding.

Every App validates its templates at synth with the CloudFormation validation engine (``CloudFormationValidatePlugin``:
resource schemas and CDK's default rules), and `cdk synth` does too; cdk.json's
``@aws-cdk/core:validateAgainstDefaultRules`` makes a finding fail the synth. The rest of the suite synthesizes
without it (tests/conftest.py sets ``CDK_VALIDATION=false`` for its Node.js process: starting the engine costs ~4 s of
CPU per process). This module registers the plugin explicitly, which that variable does not turn off
(``AppProps.builtin_cloud_formation_validation``), and runs on one pytest-xdist worker (the "builtin-validation"
group), so only that worker starts the engine.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.app_builder import build_app
from stacks.config import parse_config
from tests.conftest import ACCOUNT, DEFAULT_CONFIG, FEATURE_FLAGS
from tests.unit.test_bare_app import FULL

#: ``CloudFormationValidatePlugin.PLUGIN_NAME``, as the report names it.
PLUGIN = "CloudFormation Validate"

APPS = {
    # The app `cdk synth` builds from cdk.json, and every optional feature at once: with cdk.json's flags, and in a
    # bare App (someone else's app: no feature flags, findings reported as warnings, so assert there are none).
    "default": (FEATURE_FLAGS, {**DEFAULT_CONFIG, "account": ACCOUNT}),
    # CloudFront and PrivateLink-only access exclude each other: one case has each.
    "full-cloudfront": (FEATURE_FLAGS, {**FULL, "name": "full", "cloudfront": {"enabled": True},
                                        "privatelink": {**FULL["privatelink"], "restrict_to_endpoints": False}}),
    "full-privatelink-only-bare-app": ({}, FULL),
}


def _findings(outdir: Path) -> list[str]:
    """The engine's findings in the synth's validation-report.json (a plugin that finds nothing is not listed)."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [f"{v['severity']}: {v['description']}" for r in report["pluginReports"] if r["pluginName"] == PLUGIN
            for v in r["violations"]]


def _validated_app(context: dict, outdir: Path) -> cdk.App:
    app = cdk.App(context=context, outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    return app


def _broken_stack(app: cdk.App) -> None:
    stack = cdk.Stack(app, "Broken", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    cdk.CfnResource(stack, "Bucket", type="AWS::S3::Bucket", properties={"VersioningConfiguration": "on"})


@pytest.mark.parametrize("case", sorted(APPS))
def test_the_apps_users_synthesize_pass_it(case, tmp_path):
    context, config = APPS[case]
    app = _validated_app(context, tmp_path)
    deployment = build_app(app, parse_config(config))
    app.synth()  # with cdk.json's flags a finding fails here; in a bare App it is reported as a warning
    assert _findings(tmp_path) == []
    assert len(deployment.stacks) >= 3


@pytest.mark.parametrize("context, fails", [(FEATURE_FLAGS, True), ({}, False)], ids=["cdk-json-flags", "bare-app"])
def test_it_reports_a_template_the_schema_rejects(context, fails, tmp_path):
    """Guards the guard: the explicitly registered engine runs in this process. With cdk.json's flags a finding fails
    the synth; in a bare App the synth succeeds and the report holds it as a warning."""
    app = _validated_app(context, tmp_path)
    _broken_stack(app)
    if fails:
        with pytest.raises(Exception, match="ValidationFailed"):
            app.synth()
    else:
        app.synth()
    assert _findings(tmp_path) == [f"{'error' if fails else 'warning'}: VersioningConfiguration: 'on' is not of type "
                                   "'object'"]


def test_the_rest_of_the_suite_synthesizes_without_it(tmp_path):
    """tests/conftest.py's setting reached the suite's Node.js process: an App as the suite makes them (no plugin
    registered) does not validate, so the broken template synthesizes. Without the setting each worker would start
    the engine again."""
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path))
    _broken_stack(app)
    app.synth()
    assert not (tmp_path / "validation-report.json").exists() or _findings(tmp_path) == []
