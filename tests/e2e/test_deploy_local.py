"""End to end: `cdk bootstrap`, `cdk deploy --all` and `cdk destroy --all` with the real CDK CLI against the local
emulator (moto on 127.0.0.1 with the project's corrections), asserting the state with boto3.

What the emulator cannot prove — object replication, data-plane routing, SigV4A, IAM evaluation, alarms — is covered
by the unit tests of the templates and of the handlers/CLI; see the README.
"""

from __future__ import annotations

import io
import json

import pytest

from mrap_constructs.testing import cfn_models
from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import LocalDeployment
from tests.conftest import DEFAULT_CONFIG, ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def aws():
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    with LocalAws() as emulator:
        yield emulator


def _deploy(aws, tmp_path, config: dict) -> tuple[LocalDeployment, object]:
    aws.reset()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    regions = [*config["regions"], config.get("home_region", "us-west-2")]
    deployment = LocalDeployment(aws, project=ROOT, config=str(path), out=io.StringIO(), regions=regions)
    deployment.bootstrap()
    deployment.deploy()
    return deployment, deployment.inspect(config["name"])


def _bucket_exists(aws, region, bucket) -> bool:
    return bucket in [b["Name"] for b in aws.client("s3", region).list_buckets()["Buckets"]]


def test_default_config_deploys_in_two_waves_and_destroys_cleanly(aws, tmp_path):
    config = {**DEFAULT_CONFIG, "name": "e2e-mesh", "bucket_prefix": "e2e-mesh"}
    deployment, deployed = _deploy(aws, tmp_path, config)
    regions = sorted(config["regions"])
    account = aws.account

    # The MRAP: right name, every bucket, its policy; outputs carry the real alias.
    assert sorted(deployed.buckets) == regions
    assert deployed.buckets == {r: f"e2e-mesh-{account}-{r}" for r in regions}
    assert deployed.outputs["e2e-mesh-access-point"]["MrapAlias"] == deployed.alias
    assert deployed.outputs["e2e-mesh-access-point"]["MrapArn"] == deployed.arn
    assert deployed.policy["Statement"][0]["Sid"] == "AllowOwningAccountPrincipals"
    assert sorted(deployed.policy["Statement"][0]["Resource"]) == [deployed.arn, f"{deployed.arn}/object/*"]

    # Buckets: versioned, policies delegate to the account's access points; full mesh applied by the custom resource.
    for region in regions:
        bucket = deployed.buckets[region]
        assert deployed.versioning[region] == "Enabled"
        policy = json.loads(aws.client("s3", region).get_bucket_policy(Bucket=bucket)["Policy"])
        delegate = next(s for s in policy["Statement"] if s.get("Sid") == "DelegateToAccessPointsOfAccount")
        assert delegate["Condition"] == {"StringEquals": {"s3:DataAccessPointAccount": account}}
        rules = deployed.replication[region]
        others = [r for r in regions if r != region]
        assert [r["Destination"]["Bucket"] for r in rules] == [f"arn:aws:s3:::{deployed.buckets[o]}" for o in others]
        assert all(r["DeleteMarkerReplication"]["Status"] == "Enabled" for r in rules)
        assert [int(r["Priority"]) for r in rules] == list(range(1, len(others) + 1))
    assert [t for t, request, _ in cfn_models.CUSTOM_RESOURCE_LOG
            if request == "Create"].count("Custom::S3BucketReplication") == 3

    deployment.destroy()
    # Replication configurations were removed before the bucket stacks went; data-bearing resources are retained.
    assert [t for t, request, _ in cfn_models.CUSTOM_RESOURCE_LOG
            if request == "Delete"].count("Custom::S3BucketReplication") == 3
    for region in regions:
        bucket = deployed.buckets[region]
        assert _bucket_exists(aws, region, bucket), "buckets are retained"
        s3 = aws.client("s3", region)
        with pytest.raises(s3.exceptions.ClientError, match="ReplicationConfigurationNotFound"):
            s3.get_bucket_replication(Bucket=bucket)
    control = aws.client("s3control", "us-west-2")
    assert control.get_multi_region_access_point(AccountId=account, Name="e2e-mesh")["AccessPoint"]["Alias"] == \
        deployed.alias, "the MRAP is retained (its alias can never be recreated)"
    stacks = aws.client("cloudformation", "us-east-1").describe_stacks()["Stacks"]
    assert [s["StackName"] for s in stacks] == ["CDKToolkit"]


def test_one_way_with_failover_and_destroy_policy(aws, tmp_path):
    config = {"name": "e2e-failover", "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
              "removal_policy": "destroy", "replication": {"mode": "one-way", "source_region": "us-east-1"},
              "failover": {"active": ["us-east-1"]}}
    deployment, deployed = _deploy(aws, tmp_path, config)
    assert len(deployed.replication["us-east-1"]) == 2
    assert deployed.replication["eu-west-1"] == [] and deployed.replication["ap-southeast-2"] == []
    # The routes handler really ran (against the emulated routes API) and set the dials.
    assert cfn_models.ROUTES[deployed.arn] == {"us-east-1": 100, "eu-west-1": 0, "ap-southeast-2": 0}
    assert deployed.outputs["e2e-failover-access-point"]["MrapActiveRegions"] == "us-east-1"
    # Objects written to a bucket are removed with it on destroy (removal_policy destroy is explicit).
    aws.client("s3", "eu-west-1").put_object(Bucket=deployed.buckets["eu-west-1"], Key="k", Body=b"x")

    deployment.destroy()
    log = cfn_models.CUSTOM_RESOURCE_LOG
    assert ("Custom::MrapRoutes", "Delete") in [(t, r) for t, r, _ in log]
    for region, bucket in deployed.buckets.items():
        assert not _bucket_exists(aws, region, bucket), f"{bucket} should be gone with removal_policy destroy"
    control = aws.client("s3control", "us-west-2")
    with pytest.raises(control.exceptions.ClientError, match="NoSuchMultiRegionAccessPoint"):
        control.get_multi_region_access_point(AccountId=aws.account, Name="e2e-failover")


def test_privatelink_restricted_policy_names_the_deployed_endpoint(aws, tmp_path):
    """Four waves: the endpoint stack reads the MRAP alias, the policy stack reads the endpoint id (by tag).

    Not destroyed here: moto keeps a VPC endpoint when its stack is deleted, so the VPC cannot go (see README)."""
    config = {"name": "e2e-private", "regions": ["us-east-1", "eu-west-1"],
              "monitoring": {"alarms": False, "dashboard": False},
              "privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True}}
    deployment, deployed = _deploy(aws, tmp_path, {**config, "home_region": "us-west-2"})
    endpoints = aws.client("ec2", "us-east-1").describe_vpc_endpoints()["VpcEndpoints"]
    assert len(endpoints) == 1
    endpoint = endpoints[0]
    assert endpoint["ServiceName"] == "com.amazonaws.s3-global.accesspoint"
    assert {"Key": "mrap:name", "Value": "e2e-private"} in endpoint["Tags"]
    assert deployed.outputs["e2e-private-privatelink-us-east-1"]["EndpointId"] == endpoint["VpcEndpointId"]
    assert deployed.arn in endpoint["PolicyDocument"], "the endpoint policy names the real alias"
    deny = next(s for s in deployed.policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"StringNotEquals": {"aws:SourceVpce": [endpoint["VpcEndpointId"]]}}
    assert ("Custom::MrapEndpointLookup", "Create") in [(t, r) for t, r, _ in cfn_models.CUSTOM_RESOURCE_LOG]
