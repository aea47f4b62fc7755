"""Day-2 end to end: one app deployed once, then changed config by config with `cdk deploy --all` (stack updates
with the real CDK CLI against the emulator), asserting after every step that what is deployed converged to the
config — and that data written before the first update is still there at the end.

Then a fault: an update whose wave-2 custom resource fails rolls its stack back (buckets and data intact, the
previous replication configuration restored), and the next deploy converges.
"""

from __future__ import annotations

import io
import json

import pytest

from mrap_constructs.testing import cfn_models
from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import DeployError, LocalDeployment
from tests.conftest import DEFAULT_CONFIG, ROOT

pytestmark = pytest.mark.e2e

NAME = "e2e-day2"
REGIONS = sorted(DEFAULT_CONFIG["regions"])
BASE = {**DEFAULT_CONFIG, "name": NAME, "bucket_prefix": NAME}
#: One metric-math alarm per failure kind per source bucket (up to 10 rules each).
ALARMS_PER_SOURCE = 4


class App:
    """The deployed app: rewrite its config file, redeploy, read back the state."""

    def __init__(self, aws: LocalAws, config_path) -> None:
        self.aws = aws
        self.path = config_path
        self.deployment = LocalDeployment(aws, project=ROOT, config=str(config_path), out=io.StringIO(),
                                          regions=[*REGIONS, BASE["home_region"]])

    def deploy(self, config: dict) -> None:
        self.path.write_text(json.dumps(config))
        self.deployment.deploy()

    def rules(self) -> dict[str, list[str]]:
        """Per Region, the destination Region of each replication rule (from GetBucketReplication)."""
        deployed = self.deployment.inspect(NAME)
        return {region: [r["ID"].removeprefix("to-") for r in rules] for region, rules in deployed.replication.items()}

    def replication(self, region: str) -> list[dict]:
        return self.deployment.inspect(NAME).replication[region]

    def alarms(self) -> int:
        return sum(len(self.aws.client("cloudwatch", r).describe_alarms()["MetricAlarms"]) for r in REGIONS)

    def dials(self) -> dict[str, int]:
        return self.aws.state.routes.get(self.deployment.inspect(NAME).arn, {r: 100 for r in REGIONS})

    def stack_status(self, stack: str, region: str) -> str:
        return self.aws.client("cloudformation", region).describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    with LocalAws() as aws:
        deployed = App(aws, tmp_path_factory.mktemp("day2") / "config.json")
        deployed.path.write_text(json.dumps(BASE))
        deployed.deployment.bootstrap()
        deployed.deploy(BASE)
        yield deployed


FULL_MESH = {r: sorted(o for o in REGIONS if o != r) for r in REGIONS}
ONE_WAY = {r: (sorted(o for o in REGIONS if o != r) if r == "us-east-1" else []) for r in REGIONS}


def test_config_changes_apply_as_updates_and_keep_data(app):
    assert {r: sorted(d) for r, d in app.rules().items()} == FULL_MESH
    assert app.alarms() == 3 * ALARMS_PER_SOURCE  # three sources in a full mesh
    bucket = f"{NAME}-{app.aws.account}-eu-west-1"
    app.aws.client("s3", "eu-west-1").put_object(Bucket=bucket, Key="before-updates.txt", Body=b"day 1")
    stacks_before = _stack_ids(app)

    # 1. full mesh -> one-way: the non-source buckets' configurations are removed, their alarms go.
    one_way = {**BASE, "replication": {**BASE["replication"], "mode": "one-way", "source_region": "us-east-1"}}
    app.deploy(one_way)
    assert {r: sorted(d) for r, d in app.rules().items()} == ONE_WAY
    assert app.alarms() == 1 * ALARMS_PER_SOURCE  # one source one-way
    assert ("Custom::S3BucketReplication", "Update") in _requests(app)

    # 2. add failover: the routes custom resource is created and sets the dials.
    failover = {**one_way, "failover": {"active": ["us-east-1"]}}
    app.deploy(failover)
    assert app.dials() == {"us-east-1": 100, "eu-west-1": 0, "ap-southeast-2": 0}
    assert ("Custom::MrapRoutes", "Create") in _requests(app)

    # 3. back to full mesh with RTC, failover removed: the routes resource gets Delete (every Region active again).
    rtc = {**BASE, "replication": {**BASE["replication"], "rtc": True}}
    app.deploy(rtc)
    assert {r: sorted(d) for r, d in app.rules().items()} == FULL_MESH
    for region in REGIONS:
        assert all(rule["Destination"]["ReplicationTime"]["Status"] == "Enabled" for rule in app.replication(region))
    assert app.dials() == {r: 100 for r in REGIONS}
    assert ("Custom::MrapRoutes", "Delete") in _requests(app)
    assert app.alarms() == 3 * ALARMS_PER_SOURCE  # three sources in a full mesh

    # 4. alarms off: every alarm is deleted with the update, replication untouched.
    app.deploy({**rtc, "monitoring": {"alarms": False}})
    assert app.alarms() == 0
    assert {r: sorted(d) for r, d in app.rules().items()} == FULL_MESH

    assert _stack_ids(app) == stacks_before, "every change was an update: no stack was replaced"
    body = app.aws.client("s3", "eu-west-1").get_object(Bucket=bucket, Key="before-updates.txt")["Body"].read()
    assert body == b"day 1"


def test_failed_update_rolls_back_and_the_next_deploy_converges(app, monkeypatch):
    before = app.rules()
    bucket = f"{NAME}-{app.aws.account}-eu-west-1"
    app.aws.client("s3", "eu-west-1").put_object(Bucket=bucket, Key="before-fault.txt", Body=b"kept")
    one_way = {**BASE, "replication": {**BASE["replication"], "mode": "one-way", "source_region": "us-east-1"}}

    # eu-west-1's replication custom resource fails (wave 2); the custom resources run in this process.
    run_sdk_call = cfn_models.run_sdk_call

    def failing(state, call_json, region, account=None):
        call = json.loads(call_json) if isinstance(call_json, str) else call_json
        if call and call["action"] == "DeleteBucketReplication" and call["parameters"]["Bucket"] == bucket:
            raise RuntimeError("injected fault")
        return run_sdk_call(state, call_json, region, account)

    monkeypatch.setattr(cfn_models, "run_sdk_call", failing)
    with pytest.raises(DeployError, match=f"^{NAME}-replication-eu-west-1: .*injected fault"):
        app.deploy(one_way)
    assert app.stack_status(f"{NAME}-replication-eu-west-1", "eu-west-1") == "UPDATE_ROLLBACK_COMPLETE"
    rules = app.rules()
    assert rules["eu-west-1"] == before["eu-west-1"], "rolled back to the previous configuration"
    assert rules["us-east-1"] == ONE_WAY["us-east-1"] and rules["ap-southeast-2"] == [], "the others updated"
    s3 = app.aws.client("s3", "eu-west-1")
    assert s3.get_object(Bucket=bucket, Key="before-fault.txt")["Body"].read() == b"kept"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    monkeypatch.setattr(cfn_models, "run_sdk_call", run_sdk_call)
    app.deploy(one_way)
    assert {r: sorted(d) for r, d in app.rules().items()} == ONE_WAY
    assert app.stack_status(f"{NAME}-replication-eu-west-1", "eu-west-1") == "UPDATE_COMPLETE"


def _requests(app: App) -> list[tuple[str, str]]:
    return [(kind, request) for kind, request, _ in app.aws.state.custom_resource_log]


def _stack_ids(app: App) -> dict[str, str]:
    ids = {}
    for region in [*REGIONS, BASE["home_region"]]:
        for stack in app.aws.client("cloudformation", region).describe_stacks()["Stacks"]:
            ids[stack["StackName"]] = stack["StackId"]
    return ids
