"""PrivateLink endpoints, cross-account buckets, existing buckets and the MRAP policy helpers."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from mrap_constructs import MrapBucket, MultiRegionAccessPoint
from mrap_constructs.endpoint import SERVICE_NAME, MultiRegionAccessPointEndpoint
from stacks.config import ConfigError, parse_config
from tests.conftest import ACCOUNT, new_stack
from tests.unit.test_cfn_lint import _lint_app
from tests.unit.test_least_privilege import audit

BUCKETS = ["media-us-east-1", "media-eu-west-1"]


@pytest.fixture(scope="module")
def endpoint_stack():
    stack = new_stack("us-east-1", account="111111111111")
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.1.0.0/16"), max_azs=2, nat_gateways=0,
                  subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    mrap = MultiRegionAccessPoint.from_alias(stack, "Mrap", alias="mfzwi23gnjvgw.mrap")
    endpoint = MultiRegionAccessPointEndpoint(stack, "Endpoint", vpc=vpc, access_point=mrap, bucket_names=BUCKETS)
    return stack, endpoint, Template.from_stack(stack)


def test_endpoint_service_private_dns_and_subnets(endpoint_stack):
    _, _, template = endpoint_stack
    template.has_resource_properties("AWS::EC2::VPCEndpoint", {
        "ServiceName": SERVICE_NAME, "VpcEndpointType": "Interface", "PrivateDnsEnabled": True,
        "SubnetIds": Match.any_value()})
    assert SERVICE_NAME == "com.amazonaws.s3-global.accesspoint"


def test_security_group_admits_only_https_from_the_vpc(endpoint_stack):
    _, _, template = endpoint_stack
    group = next(g["Properties"] for g in template.find_resources("AWS::EC2::SecurityGroup").values()
                 if "MRAP endpoint" in g["Properties"]["GroupDescription"])
    ingress = group["SecurityGroupIngress"]
    assert len(ingress) == 1 and ingress[0]["FromPort"] == 443 and ingress[0]["ToPort"] == 443
    assert ingress[0]["CidrIp"] == {"Fn::GetAtt": [Match.string_like_regexp("Vpc"), "CidrBlock"]} or \
        "CidrBlock" in json.dumps(ingress[0]["CidrIp"])
    assert group["SecurityGroupEgress"][0]["CidrIp"] == "255.255.255.255/32"  # CDK's "no egress" marker


def test_endpoint_policy_allows_exactly_the_mrap_and_its_buckets(endpoint_stack):
    _, _, template = endpoint_stack
    endpoint = next(iter(template.find_resources("AWS::EC2::VPCEndpoint").values()))["Properties"]
    (statement,) = endpoint["PolicyDocument"]["Statement"]
    assert sorted(statement["Resource"]) == sorted([
        "arn:aws:s3::111111111111:accesspoint/mfzwi23gnjvgw.mrap",
        "arn:aws:s3::111111111111:accesspoint/mfzwi23gnjvgw.mrap/object/*",
        "arn:aws:s3:::media-us-east-1", "arn:aws:s3:::media-eu-west-1",
        "arn:aws:s3:::media-us-east-1/*", "arn:aws:s3:::media-eu-west-1/*"])
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ["111111111111"]}}
    assert "s3:*" not in statement["Action"] and "s3:GetObject" in statement["Action"]


def test_endpoint_fails_without_buckets_or_with_bad_account():
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0,
                  subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    mrap = MultiRegionAccessPoint.from_alias(stack, "Mrap", alias="x.mrap")
    with pytest.raises(ValueError) as err:
        MultiRegionAccessPointEndpoint(stack, "E", vpc=vpc, access_point=mrap, bucket_names=[],
                                       principal_accounts=["12"], allowed_peers=[])
    text = str(err.value)
    assert "bucket_names=[]: list the MRAP's buckets" in text
    assert "principal_accounts='12'" in text and "allowed_peers=[]" in text


def test_policy_helpers():
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets={"us-east-1": "media-us-east-1"})
    mrap.allow_principals([iam.AccountPrincipal("222222222222")], actions=["s3:GetObject"], key_pattern="public/*")
    mrap.restrict_to_vpc_endpoints(["vpce-1", "vpce-2"])
    mrap.deny_insecure_transport()
    statements = next(iter(Template.from_stack(stack).find_resources(
        "AWS::S3::MultiRegionAccessPointPolicy").values()))["Properties"]["Policy"]["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}
    assert "/object/public/*" in json.dumps(statements[0]["Resource"])
    assert statements[1]["Condition"] == {"StringNotEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}}
    assert statements[1]["Effect"] == "Deny"
    assert statements[2]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    with pytest.raises(ValueError, match=r"endpoint_ids=\[\]: give at least one VPC endpoint id"):
        mrap.restrict_to_vpc_endpoints([])


def test_existing_bucket_creates_nothing_and_warns():
    stack = new_stack()
    existing = s3.Bucket.from_bucket_name(stack, "Legacy", "legacy-bucket")
    bucket = MrapBucket(stack, "Bucket", existing_bucket=existing)
    iam.Role(stack, "Unrelated", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))  # a template needs one
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::S3::Bucket", 0)
    template.resource_count_is("AWS::S3::BucketPolicy", 0)
    assert bucket.bucket is existing and bucket.existing
    Annotations.from_stack(stack).has_warning("/TestStack/Bucket", Match.string_like_regexp("versioning enabled"))


def test_fails_on_existing_bucket_with_bucket_settings():
    stack = new_stack()
    with pytest.raises(ValueError, match=r"drop the bucket settings \['bucket_name', 'request_metrics'\]"):
        MrapBucket(stack, "Bucket", existing_bucket=s3.Bucket.from_bucket_name(stack, "L", "legacy-bucket"),
                   bucket_name="other-bucket", request_metrics=True)


PRIVATE = {"name": "private", "regions": ["us-east-1", "eu-west-1"], "account": ACCOUNT,
           "privatelink": {"regions": ["us-east-1", "eu-west-1"],
                           "availability_zones": {"us-east-1": ["us-east-1a", "us-east-1b"],
                                                  "eu-west-1": ["eu-west-1a", "eu-west-1b"]}}}


def test_privatelink_app_adds_a_third_wave_with_a_minimal_vpc(synth):
    app = synth(RESTRICTED)
    stack = app.deployment.endpoint_stacks["eu-west-1"]
    assert set(stack.dependencies) == {app.deployment.access_point_stack}
    template = app.template("walled-privatelink-eu-west-1")
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.20.0.0/16"})
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
    template.has_resource_properties("Custom::MrapAliasLookup", {"Create": Match.string_like_regexp(
        "GetMultiRegionAccessPoint")})
    endpoint = next(iter(template.find_resources("AWS::EC2::VPCEndpoint").values()))["Properties"]
    resources = json.dumps(endpoint["PolicyDocument"]["Statement"][0]["Resource"])
    assert "AccessPoint.Alias" in resources and f"walled-{ACCOUNT}-us-east-1" in resources


RESTRICTED = {**PRIVATE, "name": "walled", "privatelink": {**PRIVATE["privatelink"], "restrict_to_endpoints": True}}


def test_restrict_to_endpoints_moves_the_policy_to_a_fourth_wave(synth):
    app = synth(RESTRICTED)
    assert [len(w) for w in app.deployment.waves] == [2, 3, 2, 1]
    policy_stack = app.deployment.policy_stack
    assert set(policy_stack.dependencies) == set(app.deployment.endpoint_stacks.values())
    app.template("walled-access-point").resource_count_is("AWS::S3::MultiRegionAccessPointPolicy", 0)
    policy = next(iter(app.template("walled-access-point-policy").find_resources(
        "AWS::S3::MultiRegionAccessPointPolicy").values()))["Properties"]
    assert policy["MrapName"] == "walled"
    deny = next(s for s in policy["Policy"]["Statement"] if s["Effect"] == "Deny")
    ids = deny["Condition"]["StringNotEquals"]["aws:SourceVpce"]
    assert len(ids) == 2 and all("VpcEndpoints.0.VpcEndpointId" in json.dumps(i) for i in ids)
    lookups = app.template("walled-access-point-policy").find_resources("Custom::MrapEndpointLookup")
    calls = [json.loads(_joined(r["Properties"]["Create"])) for r in lookups.values()]
    assert sorted(c["region"] for c in calls) == ["eu-west-1", "us-east-1"]
    # only in the VPC of the Region's PrivateLink stack, found by the tag CloudFormation sets (aws: keys are AWS's)
    assert all(c["parameters"]["Filters"][1] == {"Name": "vpc-id", "Values": ["TOKEN"]} for c in calls)
    vpcs = app.template("walled-access-point-policy").find_resources("Custom::MrapVpcLookup")
    assert sorted(json.loads(r["Properties"]["Create"])["parameters"]["Filters"][0]["Values"][0]
                  for r in vpcs.values()) == ["walled-privatelink-eu-west-1", "walled-privatelink-us-east-1"]
    app.template("walled-privatelink-us-east-1").has_resource_properties("AWS::EC2::VPCEndpoint", {
        "Tags": [{"Key": "mrap:name", "Value": "walled"}]})


def _joined(value):
    """A Create property as JSON text: an Fn::Join's tokens (a lookup's response) become "TOKEN"."""
    if isinstance(value, str):
        return value
    return "".join(part if isinstance(part, str) else "TOKEN" for part in value["Fn::Join"][1])


def test_restricted_policy_denies_data_access_only_so_the_owner_cannot_lock_itself_out(synth):
    """MRAP policies govern requests made through the global endpoint, and AWS documents no owner exemption for them
    (unlike PutBucketPolicy's root exemption in the botocore s3 model): the deny covers data actions, never ``s3:*``,
    so policy updates and route changes still work from outside the VPC
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html)."""
    from mrap_constructs._perms import DATA_ACCESS_ACTION_PATTERNS

    policy = next(iter(synth(RESTRICTED).template("walled-access-point-policy").find_resources(
        "AWS::S3::MultiRegionAccessPointPolicy").values()))["Properties"]["Policy"]
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert sorted(deny["Action"]) == sorted(DATA_ACCESS_ACTION_PATTERNS)
    control_plane = ["s3:PutMultiRegionAccessPointPolicy", "s3:GetMultiRegionAccessPointPolicy",
                     "s3:SubmitMultiRegionAccessPointRoutes", "s3:GetMultiRegionAccessPointRoutes",
                     "s3:GetMultiRegionAccessPoint", "s3:DeleteMultiRegionAccessPoint"]
    for action in control_plane:
        assert not any(fnmatch.fnmatchcase(action, pattern) for pattern in deny["Action"]), action
    for action in ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject",
                   "s3:ListBucket", "s3:ListBucketVersions", "s3:AbortMultipartUpload"):
        assert any(fnmatch.fnmatchcase(action, pattern) for pattern in deny["Action"]), action


def _lookup_ids(app, stack_name: str, resource_type: str) -> dict[str, str]:
    lookups = app.template(stack_name).find_resources(resource_type)
    return {k: json.loads(_joined(r["Properties"]["Create"]))["physicalResourceId"]["id"] for k, r in lookups.items()}


def test_lookups_run_again_when_what_they_read_may_have_been_replaced(synth):
    """A lookup re-runs only when its properties change: the alias lookups carry the MRAP's replacement fingerprint
    and the endpoint lookups the endpoint's, so a replaced MRAP or endpoint is read again instead of leaving a
    policy that names a dead alias or endpoint id."""
    before = synth(RESTRICTED)
    moved = synth({**RESTRICTED, "regions": ["us-east-1", "eu-west-1", "eu-central-1"]})
    recidr = synth({**RESTRICTED, "privatelink": {**RESTRICTED["privatelink"], "vpc_cidr": "10.30.0.0/16"}})
    for stack in ("walled-access-point-policy", "walled-privatelink-us-east-1"):
        alias = _lookup_ids(before, stack, "Custom::MrapAliasLookup")
        assert alias != _lookup_ids(moved, stack, "Custom::MrapAliasLookup"), "a new Region replaces the MRAP"
        assert alias == _lookup_ids(recidr, stack, "Custom::MrapAliasLookup"), "the MRAP is unchanged"
    endpoints = _lookup_ids(before, "walled-access-point-policy", "Custom::MrapEndpointLookup")
    assert endpoints != _lookup_ids(recidr, "walled-access-point-policy", "Custom::MrapEndpointLookup")
    assert endpoints == _lookup_ids(moved, "walled-access-point-policy", "Custom::MrapEndpointLookup"), \
        "an MRAP replacement leaves the endpoints alone"


def test_restricted_app_is_lint_clean_and_least_privilege(synth):
    app = synth(RESTRICTED)
    assert _lint_app(app) == []
    assert [p for n in app.stack_names for p in audit(app.template_json(n))] == []


SHARED = {"name": "shared", "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "account": ACCOUNT,
          "bucket_accounts": {"eu-west-1": "222222222222"}, "existing_buckets": {"ap-southeast-2": "legacy-media"}}


def test_cross_account_bucket_stack_mrap_and_policies(synth):
    app = synth(SHARED)
    assert app.deployment.bucket_stacks["eu-west-1"].account == "222222222222"
    assert "ap-southeast-2" not in app.deployment.bucket_stacks
    app.template("shared-access-point").has_resource_properties("AWS::S3::MultiRegionAccessPoint", {"Regions": [
        {"Bucket": "legacy-media"}, {"Bucket": "shared-222222222222-eu-west-1", "BucketAccountId": "222222222222"},
        {"Bucket": f"shared-{ACCOUNT}-us-east-1"}]})
    statements = {s.get("Sid"): s for s in next(iter(app.template("shared-bucket-eu-west-1").find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": Match.string_like_regexp("Bucket")}}}).values())
    )["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["DelegateToAccessPointsOfAccount"]["Condition"] == {
        "StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}
    # The roles are created in wave 2 and S3 resolves role principals when a policy is saved: the principal is
    # their account, the roles an aws:PrincipalArn condition (not resolved at save time).
    admit = statements["AdmitReplicationFromOtherAccounts"]
    assert admit["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert admit["Condition"] == {"ArnEquals": {"aws:PrincipalArn": [
        f"arn:aws:iam::{ACCOUNT}:role/shared-replication-ap-southeast-2",
        f"arn:aws:iam::{ACCOUNT}:role/shared-replication-us-east-1"]}}
    # AWS's cross-account walkthrough grants the replication actions only; under BucketOwnerEnforced the owner
    # override needs no s3:ObjectOwnerOverrideToBucketOwner
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-walkthrough-2.html,
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html).
    assert sorted(admit["Action"]) == ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"]
    assert statements["AdmitReplicationVersioningCheck"]["Condition"] == admit["Condition"]


def test_cross_account_replication_hands_replicas_to_the_owner(synth):
    """Into a bucket the set creates (BucketOwnerEnforced) its owner owns the replicas without the owner override,
    which needs s3:ObjectOwnerOverrideToBucketOwner in the destination's policy (S3 User Guide, "Changing the replica
    owner": the bucket owner enforced setting "mimics the existing owner override behavior without the need of the
    s3:ObjectOwnerOverrideToBucketOwner permission"). Into an adopted bucket of another account (ownership unknown),
    the override stays, with the permission on the role."""
    app = synth(SHARED)
    template = app.template_json("shared-replication-us-east-1")
    text = json.dumps(template)
    assert '\\"Account\\":\\"222222222222\\"' in text
    assert "AccessControlTranslation" not in text and "s3:ObjectOwnerOverrideToBucketOwner" not in text
    roles = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"
             if "s3.amazonaws.com" in json.dumps(r)]
    assert roles[0]["RoleName"] == "shared-replication-us-east-1"
    into_adopted = json.dumps(app.template_json("shared-replication-eu-west-1"))
    assert '\\"Bucket\\":\\"arn:aws:s3:::legacy-media\\",\\"Account\\":\\"111111111111\\",' \
           '\\"AccessControlTranslation\\":{\\"Owner\\":\\"Destination\\"}' in into_adopted
    assert "s3:ObjectOwnerOverrideToBucketOwner" in into_adopted
    Annotations.from_stack(app.deployment.replication_stacks["ap-southeast-2"]).has_warning(
        "*", Match.string_like_regexp("legacy-media is an existing bucket"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bucket_accounts": {"sa-east-1": "222222222222"}},
         r"bucket_accounts\['sa-east-1'\]='222222222222': names sa-east-1, which is not one of regions"),
        ({"bucket_accounts": {"eu-west-1": "22"}}, r"bucket_accounts\['eu-west-1'\]='22': must be a 12-digit"),
        ({"account": None}, r"account=None: bucket_accounts needs the MRAP's account"),
        ({"encryption": "sse-kms"}, r"existing_bucket_keys\['ap-southeast-2'\]=None: encryption sse-kms with the "
                                    r"existing bucket legacy-media"),
        ({"existing_buckets": {"eu-west-1": "legacy"}}, r"an existing bucket is used as it is; give one or the other"),
        ({"existing_buckets": {"ap-southeast-2": "Bad_Name"}},
         r"existing_buckets\['ap-southeast-2'\]='Bad_Name': must be 3-63 lowercase letters"),
        ({"privatelink": {"regions": ["us-east-1"], "vpc_cidr": "10.0.0.0/8"}}, r"use a /16 to /22 network"),
        ({"privatelink": {"regions": ["us-east-1"], "vpc_cidr": "fd00::/56"}}, r"must be an IPv4 CIDR"),
        ({"privatelink": {"regions": ["mars-1"]}},
         r"privatelink.regions=\['mars-1'\]: not AWS Regions with MRAP support"),
        ({"privatelink": {"regions": ["us-east-1"], "availability_zones": {"us-east-1": ["eu-west-1a"]}}},
         r"give two AZs of us-east-1"),
    ],
)
def test_config_fails_on_inconsistent_private_or_shared_settings(change, message):
    config = {**SHARED, **change}
    if config.get("account") is None:
        config.pop("account")
    with pytest.raises(ConfigError) as err:
        parse_config(config)
    assert any(re.search(message, line) for line in err.value.problems), err.value.problems
