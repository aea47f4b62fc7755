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

from stacks.app_builder import MrapDeployment
from stacks.config import parse_config
from tests.conftest import ACCOUNT, DEFAULT_CONFIG, FEATURE_FLAGS
from tests.unit.test_bare_app import FULL

#: ``CloudFormationValidatePlugin.PLUGIN_NAME``, as the report names it.
PLUGIN = "CloudFormation Validate"
#: A template the CloudFormation schema rejects (``VersioningConfiguration`` is an object), planted next to the apps:
#: its finding, and only its, in the report shows that the engine ran and that the apps gave it nothing to report.
PLANTED = "VersioningConfiguration: 'on' is not of type 'object'"

# The app `cdk synth` builds from cdk.json and one with every optional feature, with cdk.json's flags (a finding fails
# the synth); every feature again in a bare App (someone else's app: no feature flags, findings reported as
# warnings). CloudFront and PrivateLink-only access exclude each other: one app has each.
DEFAULT = {**DEFAULT_CONFIG, "account": ACCOUNT}
FULL_CLOUDFRONT = {**FULL, "name": "full", "cloudfront": {"enabled": True},
                   "privatelink": {**FULL["privatelink"], "restrict_to_endpoints": False}}


def _findings(outdir: Path) -> list[str]:
    """The engine's findings in the synth's validation-report.json (a plugin that finds nothing is not listed)."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [f"{v['severity']}: {v['description']} ({c['constructPath']})" for r in report["pluginReports"]
            if r["pluginName"] == PLUGIN for v in r["violations"] for c in v["violatingConstructs"]]


def _validated_stacks(outdir: Path) -> set[str]:
    """The stacks of the synthesized assembly (the engine validates every one), the planted one aside."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    return {a["properties"].get("stackName", artifact_id) for artifact_id, a in manifest["artifacts"].items()
            if a["type"] == "aws:cloudformation:stack"} - {"Planted"}


def _stack_names(deployments: list[MrapDeployment]) -> set[str]:
    return {stack.stack_name for deployment in deployments for stack in deployment.stacks}


def _plant(app: cdk.App) -> None:
    """The stack "Planted": one bucket whose template the schema rejects (``PLANTED``)."""
    stack = cdk.Stack(app, "Planted", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    cdk.CfnResource(stack, "Bucket", type="AWS::S3::Bucket", properties={"VersioningConfiguration": "on"})


def _validated_app(context: dict, outdir: Path, *configs: dict) -> tuple[cdk.App, list[MrapDeployment]]:
    """An App with the validation registered, ``configs``' sets and the planted template (one synth, one run of
    the engine: each run costs ~0.5 s whatever it validates)."""
    app = cdk.App(context=context, outdir=str(outdir))
    cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    deployments = [MrapDeployment(app, f"{c['name']}-set", config=parse_config(c)) for c in configs]
    _plant(app)
    return app, deployments


def test_the_apps_users_synthesize_with_cdk_json_pass_it(tmp_path):
    app, deployments = _validated_app(FEATURE_FLAGS, tmp_path, DEFAULT, FULL_CLOUDFRONT)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    assert _findings(tmp_path) == [f"error: {PLANTED} (Planted/Bucket)"]
    assert _validated_stacks(tmp_path) == _stack_names(deployments)


def test_the_app_in_a_bare_app_passes_it(tmp_path):
    app, deployments = _validated_app({}, tmp_path, FULL)
    app.synth()
    assert _findings(tmp_path) == [f"warning: {PLANTED} (Planted/Bucket)"]
    assert _validated_stacks(tmp_path) == _stack_names(deployments)


def test_the_rest_of_the_suite_synthesizes_without_it(tmp_path):
    """tests/conftest.py's setting reached the suite's Node.js process: an App as the suite makes them (no plugin
    registered) does not validate, so a broken template synthesizes. Without the setting each worker would start
    the engine again."""
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path))
    _plant(app)
    app.synth()
    assert not (tmp_path / "validation-report.json").exists() or _findings(tmp_path) == []
