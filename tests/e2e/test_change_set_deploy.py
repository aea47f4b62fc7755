"""A user's own `cdk deploy --all` against the emulator, with the CLI's default method (change sets), then a day-2
change: what `make deploy-local KEEP=1` tells users to run, not only the harness's `--method=direct`.

The CLI runs with the emulator's environment only (``AWS_ENDPOINT_URL`` + credentials + Region): it uploads each
template to the bootstrap bucket and passes ``TemplateURL=http://127.0.0.1:PORT/BUCKET/KEY`` to CreateChangeSet,
waits for the change set, executes it and reads the stack's outputs (``mrap_constructs.testing.change_sets``).
"""

from __future__ import annotations

import io
import json

import pytest

from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import LocalDeployment
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

NAME = "e2e-changeset"
CONFIG = {"name": NAME, "account": "100000000021", "regions": ["us-east-1", "eu-west-1"],
          "monitoring": {"alarms": False, "dashboard": False}}


def test_cdk_deploy_with_change_sets_creates_then_updates(tmp_path):
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    out = io.StringIO()
    with LocalAws() as aws:
        assert "AWS_ENDPOINT_URL_S3" not in " ".join(aws.env), "only what a user's shell has"
        deployment = LocalDeployment(aws, project=ROOT, config=str(config), out=out, account=CONFIG["account"],
                                     assembly_dir=tmp_path / "cdk.out", method="change-set")
        deployment.synth()
        deployment.bootstrap()
        deployment.deploy()
        deployed = deployment.inspect(NAME)
        assert sorted(deployed.buckets) == sorted(CONFIG["regions"])
        assert deployed.versioning == {r: "Enabled" for r in CONFIG["regions"]}
        assert {r: [rule["DeleteMarkerReplication"]["Status"] for rule in rules]
                for r, rules in deployed.replication.items()} == {"us-east-1": ["Enabled"], "eu-west-1": ["Enabled"]}
        # Outputs come from the executed change set (moto alone leaves a CREATE change set's stack without any).
        assert deployed.outputs[f"{NAME}-access-point"]["MrapAlias"] == deployed.alias
        stacks = {(s["StackName"], s["StackStatus"]) for region in CONFIG["regions"] + ["us-west-2"]
                  for s in aws.client("cloudformation", region, CONFIG["account"]).describe_stacks()["Stacks"]}
        # Every stack of the account: a LocalAws starts from fresh moto backends, so an earlier e2e file's stacks in
        # the same account (test_backfill uses 100000000021 too) are not there.
        assert {status for name, status in stacks if name != "CDKToolkit"} == {"CREATE_COMPLETE"}, sorted(stacks)

        # Day 2: a changed config is an UPDATE change set (BootstrapVersion sent back as UsePreviousValue).
        config.write_text(json.dumps({**CONFIG, "replication": {"delete_markers": False}}))
        deployment.deploy()
        updated = deployment.inspect(NAME)
        assert {r: [rule["DeleteMarkerReplication"]["Status"] for rule in rules]
                for r, rules in updated.replication.items()} == {"us-east-1": ["Disabled"], "eu-west-1": ["Disabled"]}
        assert updated.alias == deployed.alias and updated.buckets == deployed.buckets
        replication = aws.client("cloudformation", "us-east-1", CONFIG["account"]).describe_stacks(
            StackName=f"{NAME}-replication-us-east-1")["Stacks"][0]
        assert replication["StackStatus"] == "UPDATE_COMPLETE"
