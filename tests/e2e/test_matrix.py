"""The e2e matrix: one config per feature group, each deployed with the real CDK CLI into its own accounts on one
shared emulator, then asserted from the deployed state (rules, policies, dials, keys, trail) with boto3.

Every scenario has distinct account ids, so none needs an emulator reset; they bootstrap and deploy concurrently
(``SCENARIO_WORKERS`` at a time), each from its own cloud assembly. Destroyed where the emulator can: the default
mesh (data-bearing resources retained) and one-way + failover (``removal_policy: destroy``). PrivateLink is not
destroyed: moto keeps a VPC endpoint when its stack is deleted, so the VPC cannot go.

The day-2 update sequence lives in ``test_updates.py``.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from mrap_constructs.regions import MRAP_REGIONS
from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import DeployedMrap, DeployError, LocalDeployment
from tests.conftest import DEFAULT_CONFIG, ROOT, create_bucket

pytestmark = pytest.mark.e2e

#: Scenarios bootstrapping/deploying at once (each is mostly the CLI waiting on the emulator).
SCENARIO_WORKERS = 4
QUIET = {"alarms": False, "dashboard": False}
EXISTING = "e2e-existing-eu-west-1-own"


@dataclass
class Scenario:
    """One config of the matrix, its accounts, and (after the fixture) what was deployed or how it failed."""

    config: dict[str, Any]
    prepare: Any = None
    deployment: LocalDeployment | None = None
    deployed: DeployedMrap | None = None
    error: Exception | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.config["name"]

    @property
    def account(self) -> str:
        return self.config["account"]


def _create_existing_bucket(aws: LocalAws, account: str) -> None:
    """The user's own bucket, made outside the app (as ``existing_buckets`` expects): versioned, in eu-west-1."""
    s3 = aws.client("s3", "eu-west-1", account)
    create_bucket(s3, EXISTING)
    s3.put_object(Bucket=EXISTING, Key="before-the-mrap.txt", Body=b"old data")  # what the backfill must copy


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario({**DEFAULT_CONFIG, "name": "e2e-mesh", "bucket_prefix": "e2e-mesh", "account": "100000000001"}),
    Scenario({"name": "e2e-failover", "account": "100000000002",
              "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "removal_policy": "destroy",
              "replication": {"mode": "one-way", "source_region": "us-east-1"},
              "failover": {"active": ["us-east-1"]}, "monitoring": QUIET}),
    Scenario({"name": "e2e-kms", "account": "100000000003", "regions": ["us-east-1", "eu-west-1"],
              "encryption": "sse-kms", "monitoring": QUIET}),
    Scenario({"name": "e2e-trail", "account": "100000000004", "regions": ["us-east-1", "eu-west-1"],
              "monitoring": {**QUIET, "cloudtrail": True}}),
    Scenario({"name": "e2e-cross", "account": "100000000005", "regions": ["us-east-1", "eu-west-1"],
              "bucket_accounts": {"eu-west-1": "100000000006"}, "monitoring": QUIET}),
    Scenario({"name": "e2e-existing", "account": "100000000007", "regions": ["us-east-1", "eu-west-1"],
              "existing_buckets": {"eu-west-1": EXISTING}, "monitoring": QUIET}, prepare=_create_existing_bucket),
    Scenario({"name": "e2e-private", "account": "100000000008", "regions": ["us-east-1", "eu-west-1"],
              "monitoring": QUIET, "privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True,
                              # given, so synth looks nothing up (a lookup would write to cdk.context.json)
                              "availability_zones": {"us-east-1": ["us-east-1a", "us-east-1b"]}}}),
    Scenario({"name": "e2e-mesh17", "account": "100000000009", "regions": sorted(MRAP_REGIONS),
              "monitoring": {**QUIET, "access_logs": False}}),
    # A config AWS would reject at deploy: the existing bucket was never created.
    Scenario({"name": "e2e-broken", "account": "100000000010", "regions": ["us-east-1", "eu-west-1"],
              "existing_buckets": {"eu-west-1": "e2e-never-created"}, "monitoring": QUIET}),
]}


def _deploy(aws: LocalAws, tmp, scenario: Scenario) -> Scenario:
    path = tmp / f"{scenario.name}.json"
    path.write_text(json.dumps(scenario.config))
    scenario.deployment = LocalDeployment(
        aws, project=ROOT, config=str(path), out=io.StringIO(), account=scenario.account,
        assembly_dir=tmp / f"{scenario.name}.out", concurrency=8 if len(scenario.config["regions"]) > 3 else 4)
    try:
        if scenario.prepare:
            scenario.prepare(aws, scenario.account)
        scenario.deployment.synth()
        scenario.deployment.bootstrap()
        scenario.deployment.deploy()
        scenario.deployed = scenario.deployment.inspect(scenario.name)
    except Exception as err:  # asserted by the scenario's own test
        scenario.error = err
    return scenario


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    tmp = tmp_path_factory.mktemp("matrix")
    with LocalAws() as aws:
        aws.reset()  # moto's backends are per process, not per server
        # The slowest first, so it overlaps the rest.
        order = sorted(SCENARIOS.values(), key=lambda s: -len(s.config["regions"]))
        with ThreadPoolExecutor(max_workers=SCENARIO_WORKERS) as pool:
            list(pool.map(lambda s: _deploy(aws, tmp, s), order))
        yield aws, SCENARIOS


def _scenario(matrix, name: str) -> tuple[LocalAws, Scenario]:
    aws, scenarios = matrix
    scenario = scenarios[name]
    if scenario.error is not None and name != "e2e-broken":
        raise AssertionError(f"{name} did not deploy: {scenario.error}") from scenario.error
    return aws, scenario


def _bucket_policy(aws: LocalAws, region: str, bucket: str, account: str) -> dict:
    return json.loads(aws.client("s3", region, account).get_bucket_policy(Bucket=bucket)["Policy"])


def _mesh_ok(deployed: DeployedMrap) -> None:
    """Every bucket versioned and replicating to every other one, priorities 1..n-1."""
    regions = sorted(deployed.buckets)
    for region in regions:
        assert deployed.versioning[region] == "Enabled", region
        others = [r for r in regions if r != region]
        rules = deployed.replication[region]
        assert sorted(r["Destination"]["Bucket"] for r in rules) == sorted(
            f"arn:aws:s3:::{deployed.buckets[o]}" for o in others), region
        assert sorted(int(r["Priority"]) for r in rules) == list(range(1, len(others) + 1)), region


# --- default mesh ------------------------------------------------------------------------------------------------


def test_default_mesh_deploys_in_its_account_with_delegating_policies(matrix):
    aws, scenario = _scenario(matrix, "e2e-mesh")
    deployed, account = scenario.deployed, scenario.account
    regions = sorted(scenario.config["regions"])
    assert deployed.buckets == {r: f"e2e-mesh-{account}-{r}" for r in regions}
    assert set(deployed.bucket_accounts.values()) == {account}
    assert deployed.outputs["e2e-mesh-access-point"]["MrapAlias"] == deployed.alias
    assert deployed.outputs["e2e-mesh-access-point"]["MrapArn"] == deployed.arn
    assert deployed.policy["Statement"][0]["Sid"] == "AllowOwningAccountPrincipals"
    assert sorted(deployed.policy["Statement"][0]["Resource"]) == [deployed.arn, f"{deployed.arn}/object/*"]
    _mesh_ok(deployed)
    for region in regions:
        assert all(r["DeleteMarkerReplication"]["Status"] == "Enabled" for r in deployed.replication[region])
        policy = _bucket_policy(aws, region, deployed.buckets[region], account)
        delegate = next(s for s in policy["Statement"] if s.get("Sid") == "DelegateToAccessPointsOfAccount")
        assert delegate["Condition"] == {"StringEquals": {"s3:DataAccessPointAccount": account}}


def test_replication_alarm_reaches_its_topic(matrix):
    """The alarm-topic key admits CloudWatch: a state change is delivered (strict/alarm_actions_kms.py), not
    recorded as "Failed to execute action"."""
    from moto.sns.models import sns_backends

    aws, scenario = _scenario(matrix, "e2e-mesh")
    cloudwatch = aws.client("cloudwatch", "us-east-1", scenario.account)
    alarm = cloudwatch.describe_alarms()["MetricAlarms"][0]
    assert alarm["AlarmActions"], "replication alarms notify a topic"
    cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="ALARM", StateReason="e2e")
    history = cloudwatch.describe_alarm_history(AlarmName=alarm["AlarmName"], HistoryItemType="Action")
    summaries = [item["HistorySummary"] for item in history["AlarmHistoryItems"]]
    assert summaries and not [s for s in summaries if s.startswith("Failed to execute action")], summaries
    topic_arn = alarm["AlarmActions"][0]
    topic = sns_backends[scenario.account]["us-east-1"].topics[topic_arn]
    assert topic.kms_master_key_id, "the topic is encrypted (with a key admitting CloudWatch)"
    assert [json.loads(n[1])["AlarmName"] for n in topic.sent_notifications] == [alarm["AlarmName"]]


def test_default_mesh_destroys_and_keeps_its_data_bearing_resources(matrix):
    aws, scenario = _scenario(matrix, "e2e-mesh")
    deployed, account = scenario.deployed, scenario.account
    scenario.deployment.destroy()
    for region, bucket in deployed.buckets.items():
        s3 = aws.client("s3", region, account)
        assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], "buckets are retained"
        with pytest.raises(s3.exceptions.ClientError, match="ReplicationConfigurationNotFound"):
            s3.get_bucket_replication(Bucket=bucket)
    control = aws.client("s3control", "us-west-2", account)
    assert control.get_multi_region_access_point(AccountId=account, Name="e2e-mesh")["AccessPoint"]["Alias"] == \
        deployed.alias, "the MRAP is retained (its alias can never be recreated)"
    for region in [*scenario.config["regions"], scenario.config["home_region"]]:
        stacks = aws.client("cloudformation", region, account).describe_stacks()["Stacks"]
        assert [s["StackName"] for s in stacks] == ["CDKToolkit"], region


# --- one-way + failover ----------------------------------------------------------------------------------------


def test_one_way_with_failover_sets_the_dials_and_destroys_with_its_data(matrix):
    aws, scenario = _scenario(matrix, "e2e-failover")
    deployed, account = scenario.deployed, scenario.account
    assert len(deployed.replication["us-east-1"]) == 2
    assert deployed.replication["eu-west-1"] == [] and deployed.replication["ap-southeast-2"] == []
    assert aws.state.routes[deployed.arn] == {"us-east-1": 100, "eu-west-1": 0, "ap-southeast-2": 0}
    assert deployed.outputs["e2e-failover-access-point"]["MrapActiveRegions"] == "us-east-1"
    aws.client("s3", "eu-west-1", account).put_object(Bucket=deployed.buckets["eu-west-1"], Key="k", Body=b"x")

    scenario.deployment.destroy()
    for region, bucket in deployed.buckets.items():
        names = [b["Name"] for b in aws.client("s3", region, account).list_buckets()["Buckets"]]
        assert bucket not in names, f"{bucket} should be gone with removal_policy destroy"
    control = aws.client("s3control", "us-west-2", account)
    with pytest.raises(control.exceptions.ClientError, match="NoSuchMultiRegionAccessPoint"):
        control.get_multi_region_access_point(AccountId=account, Name="e2e-failover")


# --- SSE-KMS ---------------------------------------------------------------------------------------------------


def test_sse_kms_buckets_use_their_regions_key_and_replicate_kms_objects(matrix):
    aws, scenario = _scenario(matrix, "e2e-kms")
    deployed, account = scenario.deployed, scenario.account
    _mesh_ok(deployed)
    for region, bucket in deployed.buckets.items():
        kms = aws.client("kms", region, account)
        key_arn = kms.describe_key(KeyId="alias/e2e-kms-mrap")["KeyMetadata"]["Arn"]
        encryption = aws.client("s3", region, account).get_bucket_encryption(Bucket=bucket)
        default = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms"
        assert kms.describe_key(KeyId=default["KMSMasterKeyID"])["KeyMetadata"]["Arn"] == key_arn
        for rule in deployed.replication[region]:
            assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"]["Status"] == "Enabled"
            destination = next(r for r, b in deployed.buckets.items() if rule["Destination"]["Bucket"].endswith(b))
            replica_key = rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]
            assert replica_key == f"arn:aws:kms:{destination}:{account}:alias/e2e-kms-mrap"


# --- monitoring with CloudTrail ---------------------------------------------------------------------------------


def test_cloudtrail_trail_exists_under_a_key_admitting_cloudtrail(matrix):
    aws, scenario = _scenario(matrix, "e2e-trail")
    account = scenario.account
    cloudtrail = aws.client("cloudtrail", "us-west-2", account)
    [trail] = cloudtrail.describe_trails()["trailList"]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"] and trail["KmsKeyId"]
    assert cloudtrail.get_trail_status(Name=trail["Name"])["IsLogging"] is True
    selectors = cloudtrail.get_event_selectors(TrailName=trail["Name"])["EventSelectors"]
    logged = sorted(v for s in selectors for r in s.get("DataResources", []) for v in r["Values"])
    assert logged == sorted(f"arn:aws:s3:::{b}/" for b in scenario.deployed.buckets.values())
    kms = aws.client("kms", "us-west-2", account)
    policy = json.loads(kms.get_key_policy(KeyId=trail["KmsKeyId"], PolicyName="default")["Policy"])
    admitted = [s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    actions = {a for s in admitted for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"kms:GenerateDataKey*", "kms:DescribeKey"} <= actions, policy


# --- cross-account buckets ----------------------------------------------------------------------------------------


def test_cross_account_bucket_lives_in_its_account_and_admits_the_source_account(matrix):
    aws, scenario = _scenario(matrix, "e2e-cross")
    deployed, account, other = scenario.deployed, scenario.account, "100000000006"
    assert deployed.bucket_accounts == {"us-east-1": account, "eu-west-1": other}
    assert deployed.buckets["eu-west-1"] == f"e2e-cross-{other}-eu-west-1"
    s3_other = aws.client("s3", "eu-west-1", other)
    assert deployed.buckets["eu-west-1"] in [b["Name"] for b in s3_other.list_buckets()["Buckets"]]
    stacks = aws.client("cloudformation", "eu-west-1", other).describe_stacks()["Stacks"]
    assert {"e2e-cross-bucket-eu-west-1", "e2e-cross-replication-eu-west-1"} <= {s["StackName"] for s in stacks}

    policy = _bucket_policy(aws, "eu-west-1", deployed.buckets["eu-west-1"], other)
    admit = next(s for s in policy["Statement"] if s.get("Sid") == "AdmitReplicationFromOtherAccounts")
    assert admit["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    assert admit["Condition"] == {"ArnEquals": {
        "aws:PrincipalArn": [f"arn:aws:iam::{account}:role/e2e-cross-replication-us-east-1"]}}
    delegate = next(s for s in policy["Statement"] if s.get("Sid") == "DelegateToAccessPointsOfAccount")
    assert delegate["Condition"] == {"StringEquals": {"s3:DataAccessPointAccount": account}}

    [to_other] = deployed.replication["us-east-1"]
    assert to_other["Destination"]["Account"] == other
    # The set's buckets are BucketOwnerEnforced, which "mimics the existing owner override behavior without the need of
    # the s3:ObjectOwnerOverrideToBucketOwner permission" (S3 User Guide, "Changing the replica owner",
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html): no owner translation.
    assert "AccessControlTranslation" not in to_other["Destination"]
    [to_source] = deployed.replication["eu-west-1"]
    assert to_source["Destination"]["Account"] == account
    role = aws.client("iam", "us-east-1", account).get_role(RoleName="e2e-cross-replication-us-east-1")["Role"]
    assert [role["Arn"]] == admit["Condition"]["ArnEquals"]["aws:PrincipalArn"], "the role the condition names exists"


# --- existing buckets ------------------------------------------------------------------------------------------


def test_existing_bucket_joins_the_mrap_and_the_mesh(matrix):
    aws, scenario = _scenario(matrix, "e2e-existing")
    deployed, account = scenario.deployed, scenario.account
    assert deployed.buckets == {"us-east-1": f"e2e-existing-{account}-us-east-1", "eu-west-1": EXISTING}
    _mesh_ok(deployed)
    stacks = {s["StackName"] for s in aws.client("cloudformation", "eu-west-1", account).describe_stacks()["Stacks"]}
    assert "e2e-existing-bucket-eu-west-1" not in stacks and "e2e-existing-replication-eu-west-1" in stacks
    # The object written before the MRAP existed was copied by the backfill (live replication copies only new ones).
    assert "e2e-existing-backfill-eu-west-1" in stacks
    [job] = aws.client("s3control", "eu-west-1", account).list_jobs(AccountId=account)["Jobs"]
    assert job["Operation"] == "S3ReplicateObject" and job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == 1 and job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    copied = aws.client("s3", "us-east-1", account).get_object(Bucket=deployed.buckets["us-east-1"],
                                                               Key="before-the-mrap.txt")
    assert copied["Body"].read() == b"old data"


def test_a_deploy_failure_names_the_stack_and_the_cause(matrix):
    _, scenario = _scenario(matrix, "e2e-broken")
    assert isinstance(scenario.error, DeployError), scenario.error
    assert str(scenario.error).startswith(("e2e-broken-replication-", "e2e-broken-access-point")), scenario.error
    assert "NoSuchBucket" in scenario.error.cause and "\n" not in str(scenario.error)


# --- PrivateLink restricted ------------------------------------------------------------------------------------


def test_privatelink_restricted_policy_names_the_deployed_endpoint(matrix):
    """Four waves: the endpoint stack reads the MRAP alias, the policy stack reads the endpoint id (by tag)."""
    aws, scenario = _scenario(matrix, "e2e-private")
    deployed = scenario.deployed
    endpoints = aws.client("ec2", "us-east-1", scenario.account).describe_vpc_endpoints()["VpcEndpoints"]
    assert len(endpoints) == 1
    endpoint = endpoints[0]
    assert endpoint["ServiceName"] == "com.amazonaws.s3-global.accesspoint"
    assert {"Key": "mrap:name", "Value": "e2e-private"} in endpoint["Tags"]
    assert deployed.outputs["e2e-private-privatelink-us-east-1"]["EndpointId"] == endpoint["VpcEndpointId"]
    assert deployed.arn in endpoint["PolicyDocument"], "the endpoint policy names the real alias"
    deny = next(s for s in deployed.policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"StringNotEquals": {"aws:SourceVpce": [endpoint["VpcEndpointId"]]}}


# --- 17 Regions --------------------------------------------------------------------------------------------------


def test_seventeen_region_mesh(matrix):
    _, scenario = _scenario(matrix, "e2e-mesh17")
    deployed = scenario.deployed
    assert len(deployed.buckets) == 17
    _mesh_ok(deployed)
    assert sum(len(rules) for rules in deployed.replication.values()) == 17 * 16
