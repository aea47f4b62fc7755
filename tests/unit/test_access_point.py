"""MultiRegionAccessPoint: properties, ARNs from the alias, policy, grants, import, validation."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mrap_constructs import IMultiRegionAccessPoint, MultiRegionAccessPoint
from tests.conftest import ACCOUNT, new_app, new_stack

BUCKETS = {"us-east-1": "media-us-east-1", "eu-west-1": "media-eu-west-1"}


@pytest.fixture(scope="module")
def mrap_stack():
    stack = new_stack("us-west-2")
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    mrap.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.AccountPrincipal("111111111111")], actions=["s3:GetObject"],
        resources=[mrap.object_arn()]))
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    mrap.grant_read(role)
    return stack, mrap, Template.from_stack(stack)


def test_creates_mrap_with_sorted_regions_and_all_public_access_blocked(mrap_stack):
    _, _, template = mrap_stack
    template.has_resource("AWS::S3::MultiRegionAccessPoint", {
        "Properties": {
            "Name": "media",
            "Regions": [{"Bucket": "media-eu-west-1"}, {"Bucket": "media-us-east-1"}],
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
        },
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })


def test_arn_and_hostname_use_the_alias_not_the_name(mrap_stack):
    stack, mrap, _ = mrap_stack
    alias = {"Fn::GetAtt": [stack.resolve(mrap.resource.logical_id), "Alias"]}
    assert stack.resolve(mrap.arn) == {"Fn::Join": ["", ["arn:aws:s3::111111111111:accesspoint/", alias]]}
    assert stack.resolve(mrap.hostname) == {"Fn::Join": ["", [alias, ".accesspoint.s3-global.amazonaws.com"]]}
    assert stack.resolve(mrap.object_arn("photos/*"))["Fn::Join"][1][-1] == "/object/photos/*"
    assert mrap.name == "media" and mrap.regions == ["eu-west-1", "us-east-1"]


def test_policy_names_the_mrap_by_reference_and_uses_alias_arns(mrap_stack):
    _, _, template = mrap_stack
    template.has_resource_properties("AWS::S3::MultiRegionAccessPointPolicy", {
        "MrapName": {"Ref": "Mrap80BDF033"},
        "Policy": {"Statement": [Match.object_like({
            "Action": "s3:GetObject",
            "Resource": {"Fn::Join": ["", Match.array_with([{"Fn::GetAtt": ["Mrap80BDF033", "Alias"]},
                                                            "/object/*"])]},
        })]},
    })


def test_grant_read_gives_identity_policy_on_mrap_and_its_objects(mrap_stack):
    stack, mrap, template = mrap_stack
    policies = template.find_resources("AWS::IAM::Policy")
    statement = next(iter(policies.values()))["Properties"]["PolicyDocument"]["Statement"][0]
    assert {"s3:GetObject", "s3:ListBucket"} <= set(statement["Action"])
    assert not {"s3:PutObject", "s3:DeleteObject"} & set(statement["Action"])
    assert sorted(map(str, statement["Resource"])) == sorted(map(str, [stack.resolve(mrap.arn),
                                                                       stack.resolve(mrap.object_arn("*"))]))


def test_grant_write_excludes_read_actions():
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    role = iam.Role(stack, "Writer", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    mrap.grant_write(role)
    statement = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    actions = next(iter(statement.values()))["Properties"]["PolicyDocument"]["Statement"][0]["Action"]
    assert "s3:PutObject" in actions and "s3:GetObject" not in actions


def test_no_policy_resource_until_a_statement_is_added():
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    Template.from_stack(stack).resource_count_is("AWS::S3::MultiRegionAccessPointPolicy", 0)
    assert mrap.policy is None and mrap.policy_status_is_public is None


def test_accepts_bucket_objects_and_bucket_accounts():
    stack = new_stack("us-east-1")
    bucket = s3.Bucket(stack, "Local")
    other = s3.Bucket.from_bucket_attributes(stack, "Other", bucket_name="theirs", region="eu-west-1")
    MultiRegionAccessPoint(stack, "Mrap", name="shared", buckets={"us-east-1": bucket, "eu-west-1": other},
                           bucket_accounts={"eu-west-1": "222222222222"})
    Template.from_stack(stack).has_resource_properties("AWS::S3::MultiRegionAccessPoint", {
        "Regions": [{"Bucket": "theirs", "BucketAccountId": "222222222222"},
                    {"Bucket": {"Ref": Match.string_like_regexp("Local")}}],
    })


def test_from_alias_satisfies_the_interface_and_grants():
    stack = new_stack()
    imported = MultiRegionAccessPoint.from_alias(stack, "Imported", alias="mfzwi23gnjvgw.mrap")
    assert isinstance(imported, IMultiRegionAccessPoint)
    assert stack.resolve(imported.arn) == "arn:aws:s3::111111111111:accesspoint/mfzwi23gnjvgw.mrap"
    assert imported.hostname == "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"
    assert imported.add_to_resource_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"])) \
        .statement_added is False
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    imported.grant_read_write(role)
    Template.from_stack(stack).resource_count_is("AWS::IAM::Policy", 1)


def test_fails_from_alias_given_a_name():
    with pytest.raises(ValueError, match=r"alias='media': must be the MRAP alias, .* \(not its name\)"):
        MultiRegionAccessPoint.from_alias(new_stack(), "Imported", alias="media")


def test_fails_from_alias_given_an_arn_and_from_arn_takes_it():
    """An ARN given as the alias would yield ``accesspoint/arn:aws:s3::...`` in every grant."""
    arn = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap"
    with pytest.raises(ValueError, match=r"alias='arn:aws:s3::111122223333:.*\(that is an ARN: use from_arn\)"):
        MultiRegionAccessPoint.from_alias(new_stack(), "Imported", alias=arn)
    stack = new_stack()
    imported = MultiRegionAccessPoint.from_arn(stack, "Imported", arn=arn)
    assert stack.resolve(imported.arn) == arn and imported.alias == "mfzwi23gnjvgw.mrap"
    for bad in ("arn:aws:s3:::media-bucket", "arn:aws:s3:us-east-1:111122223333:accesspoint/regional",
                f"{arn}/object/*", "mfzwi23gnjvgw.mrap"):
        with pytest.raises(ValueError, match=r"must be an MRAP ARN"):
            MultiRegionAccessPoint.from_arn(new_stack(), "Imported", arn=bad)


@pytest.mark.parametrize(
    ("name", "buckets", "message"),
    [
        ("Media", BUCKETS, r"name='Media': must be 3-50 characters"),
        ("-media", BUCKETS, r"name='-media': .*start and end with a letter or digit"),
        ("media-", BUCKETS, r"name='media-'"),
        ("me", BUCKETS, r"name='me'"),
        ("m" * 51, BUCKETS, r"name='m{51}'"),
        ("my_media", BUCKETS, r"name='my_media'"),
        ("my.media", BUCKETS, r"name='my.media'"),
        ("media", {}, r"buckets=\{\}: give one bucket in at least 1 Region"),
        ("media", {"us-east-9": "bucket-a"}, r"buckets\['us-east-9'\]='us-east-9': not a Region that supports MRAPs "
                                      r"\(did you mean 'us-east-\d'\?\)"),
        ("media", {"cn-north-1": "bucket-a"}, r"not a Region that supports MRAPs"),
        ("media", {"us-east-1": "same", "eu-west-1": "same"}, r"already used for .*one distinct bucket per Region"),
        # S3's naming rules, the same function the config uses
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
        ("media", {"us-east-1": "x" * 64}, r"must be 3-63 lowercase letters"),
        ("media", {"us-east-1": "xy"}, r"must be 3-63 lowercase letters"),
        ("media", {"us-east-1": "Bad_Bucket..x"}, r"buckets\['us-east-1'\]='Bad_Bucket..x': must be 3-63 lowercase"),
        ("media", {"us-east-1": "bad..bucket"}, r"two adjacent periods"),
        ("media", {"us-east-1": "192.168.1.1"}, r"IP address"),
        ("media", {"us-east-1": "xn--media"}, r"must not start with 'xn--'"),
        ("media", {"us-east-1": "media-s3alias"}, r"must not end with '-s3alias'"),
    ],
)
def test_fails_on_invalid_input(name, buckets, message):
    with pytest.raises(ValueError, match=message):
        MultiRegionAccessPoint(new_stack(), "Mrap", name=name, buckets=buckets)


def test_fails_with_more_than_17_regions_and_reports_every_problem_at_once():
    from mrap_constructs import SUPPORTED_REGIONS

    buckets = {r: f"b-{r}" for r in sorted(SUPPORTED_REGIONS)[:18]}
    with pytest.raises(ValueError) as err:
        MultiRegionAccessPoint(new_stack(), "Mrap", name="Bad", buckets=buckets)
    text = str(err.value)
    assert "at most 17 Regions, got 18" in text and "name='Bad'" in text
    assert text.startswith("MultiRegionAccessPoint 'Mrap' has invalid input:")


def test_fails_when_bucket_object_is_in_another_region():
    stack = new_stack("us-east-1")
    bucket = s3.Bucket.from_bucket_attributes(stack, "B", bucket_name="bucket-b", region="eu-west-1")
    with pytest.raises(ValueError, match=r"that bucket is in eu-west-1; list it under that Region"):
        MultiRegionAccessPoint(stack, "Mrap", name="media", buckets={"us-east-1": bucket})


def test_fails_on_bucket_account_for_unknown_region_or_bad_id():
    with pytest.raises(ValueError) as err:
        MultiRegionAccessPoint(new_stack(), "Mrap", name="media", buckets=BUCKETS,
                               bucket_accounts={"ap-south-1": "222222222222", "eu-west-1": "12"})
    assert "names a Region with no bucket" in str(err.value)
    assert "bucket_accounts['eu-west-1']='12': must be a 12-digit AWS account id" in str(err.value)


def test_warns_on_opt_in_region():
    from aws_cdk.assertions import Annotations

    stack = new_stack()
    MultiRegionAccessPoint(stack, "Mrap", name="media", buckets={"af-south-1": "b-af", "us-east-1": "b-us"})
    Annotations.from_stack(stack).has_warning("/TestStack/Mrap", Match.string_like_regexp("opt-in Region"))


@pytest.mark.parametrize(("region", "partition"), [
    ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("eusc-de-east-1", "${AWS::Partition}"), (None, "${AWS::Partition}"),
])
def test_arns_name_the_partition_only_where_it_is_known(region, partition):
    from aws_cdk import Aws, Stack

    from mrap_constructs.naming import partition_of, s3_bucket_arn

    stack = Stack(new_app(), "S", env=cdk.Environment(account=ACCOUNT, region=region) if region else None)
    expected = Aws.PARTITION if partition == "${AWS::Partition}" else partition
    assert partition_of(stack) == expected
    assert s3_bucket_arn(stack, "b") == f"arn:{expected}:s3:::b"


@pytest.mark.parametrize("region", ["eu-west-1", "cn-north-1", None])
@pytest.mark.parametrize("account", [ACCOUNT, None])
def test_account_root_principal_renders_what_account_principal_renders(region, account):
    from aws_cdk import Stack
    from aws_cdk import aws_iam as iam

    from mrap_constructs.naming import account_root_principal

    stack = Stack(new_app(), "S", env=cdk.Environment(account=ACCOUNT, region=region) if region else None)
    account = account or stack.account  # a token when the stack is environment-agnostic
    ours, cdks = account_root_principal(stack, account), iam.AccountPrincipal(account)
    assert stack.resolve(ours.policy_fragment.principal_json) == stack.resolve(cdks.policy_fragment.principal_json)


def test_the_mrap_is_an_env_aware_resource():
    """Like aws-s3's BucketBase: a cdk.Resource whose env names the owning account, also for an imported MRAP."""
    from aws_cdk import Resource

    stack = new_stack()
    owned = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    theirs = MultiRegionAccessPoint.from_alias(stack, "Theirs", alias="mfzwi23gnjvgw.mrap", account="222222222222")
    assert isinstance(owned, Resource) and isinstance(theirs, Resource)
    assert owned.env.account == "111111111111" and theirs.env.account == "222222222222"
