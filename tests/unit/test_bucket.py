"""MrapBucket: secure defaults, delegation to the MRAP account, KMS, removal policy, validation."""

from __future__ import annotations

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mrap_constructs import MrapBucket
from tests.conftest import new_stack


@pytest.fixture(scope="module")
def default_bucket():
    stack = new_stack("eu-west-1")
    bucket = MrapBucket(stack, "Bucket", bucket_name="media-111111111111-eu-west-1")
    return bucket, Template.from_stack(stack)


def test_secure_defaults(default_bucket):
    _, template = default_bucket
    template.has_resource("AWS::S3::Bucket", {
        "Properties": {
            "BucketName": "media-111111111111-eu-west-1",
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })


def test_policy_enforces_tls_and_delegates_only_to_the_access_points_of_the_account(default_bucket):
    """AWS's delegation pattern: ``Principal: *`` limited by ``s3:DataAccessPointAccount``, so the MRAP policy decides
    who gets in, callers of a third account included; with that condition the policy is not public
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html#access-points-delegating-control,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html)."""
    _, template = default_bucket
    statements = next(iter(template.find_resources("AWS::S3::BucketPolicy").values()))[
        "Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s["Effect"] == "Deny"]
    assert tls and tls[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    delegate = next(s for s in statements if s.get("Sid") == "DelegateToAccessPointsOfAccount")
    assert delegate["Principal"] == {"AWS": "*"}
    assert delegate["Condition"] == {"StringEquals": {"s3:DataAccessPointAccount": "111111111111"}}
    assert "*" not in delegate["Action"] and "s3:*" not in delegate["Action"]
    assert {"s3:GetObject", "s3:PutObject", "s3:ListBucket"} <= set(delegate["Action"])
    # Every other Allow for any principal would make the bucket public: there is none.
    assert [s["Sid"] for s in statements if s.get("Principal") == {"AWS": "*"} and s["Effect"] == "Allow"] == [
        "DelegateToAccessPointsOfAccount"]


def test_kms_creates_rotating_key_with_bucket_key():
    stack = new_stack()
    bucket = MrapBucket(stack, "Bucket", encryption=s3.BucketEncryption.KMS)
    template = Template.from_stack(stack)
    template.has_resource("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True}, "DeletionPolicy": "Retain"})
    template.has_resource_properties("AWS::S3::Bucket", {"BucketEncryption": {"ServerSideEncryptionConfiguration": [{
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": Match.any_value()}}]}})
    assert bucket.encryption_key is not None


def test_given_key_implies_kms():
    stack = new_stack()
    key = kms.Key(stack, "MyKey")
    bucket = MrapBucket(stack, "Bucket", encryption_key=key)
    assert bucket.encryption_key is key
    Template.from_stack(stack).resource_count_is("AWS::KMS::Key", 1)


def test_destroy_is_explicit_and_empties_the_bucket():
    stack = new_stack()
    MrapBucket(stack, "Bucket", removal_policy=RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    template.resource_count_is("Custom::S3AutoDeleteObjects", 1)


def test_access_logs_and_delegation_to_another_account():
    stack = new_stack()
    logs = s3.Bucket(stack, "Logs")
    MrapBucket(stack, "Bucket", server_access_logs_bucket=logs, access_point_account="222222222222")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::S3::Bucket", {"LoggingConfiguration": {
        "DestinationBucketName": {"Ref": Match.string_like_regexp("Logs")}, "LogFilePrefix": "access-logs/"}})
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Condition": {"StringEquals": {"s3:DataAccessPointAccount": "222222222222"}}})])}})


def test_fails_on_key_with_s3_managed_encryption_and_bad_account():
    stack = new_stack()
    with pytest.raises(ValueError) as err:
        MrapBucket(stack, "Bucket", encryption=s3.BucketEncryption.S3_MANAGED, encryption_key=kms.Key(stack, "K"),
                   access_point_account="abc")
    assert "a key needs encryption=BucketEncryption.KMS" in str(err.value)
    assert "access_point_account='abc': must be a 12-digit AWS account id" in str(err.value)


def test_fails_on_unsupported_encryption_and_long_name():
    with pytest.raises(ValueError) as err:
        MrapBucket(new_stack(), "Bucket", encryption=s3.BucketEncryption.DSSE_MANAGED, bucket_name="b" * 64)
    assert "use BucketEncryption.S3_MANAGED or BucketEncryption.KMS" in str(err.value)
    assert f"bucket_name={'b' * 64!r}: must be 3-63 lowercase" in str(err.value)


def test_cross_account_replication_roles_are_conditions_not_principals():
    """A role of another account created in a later wave cannot be a policy principal (S3 resolves principals when
    the policy is saved: "Invalid principal in policy",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles):
    the principal is the role's account and the role ARN an ``aws:PrincipalArn`` condition, which is not resolved."""
    stack = new_stack("eu-west-1", account="222222222222")
    roles = ["arn:aws:iam::111111111111:role/media-replication-us-east-1",
             "arn:aws:iam::333333333333:role/media-replication-ap-southeast-2"]
    MrapBucket(stack, "Bucket", bucket_name="media-222222222222-eu-west-1", access_point_account="111111111111",
               replication_source_roles=roles)
    statements = next(iter(Template.from_stack(stack).find_resources("AWS::S3::BucketPolicy").values()))[
        "Properties"]["PolicyDocument"]["Statement"]
    admitted = {s["Sid"]: s for s in statements if s.get("Sid", "").startswith("AdmitReplication")}
    assert sorted(admitted) == ["AdmitReplicationFromOtherAccounts", "AdmitReplicationVersioningCheck"]
    for statement in admitted.values():
        assert statement["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root", "arn:aws:iam::333333333333:root"]}
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": roles}}
    assert ":role/" not in str([s["Principal"] for s in statements])


def test_fails_on_replication_source_role_that_is_not_a_role_arn():
    with pytest.raises(ValueError, match=r"replication_source_roles\[0\]='111111111111': give an IAM role ARN"):
        MrapBucket(new_stack(), "Bucket", replication_source_roles=["111111111111"])
