"""Strict CloudTrail encryption (``mrap_constructs.testing.strict.cloudtrail_kms``).

AWS source: CloudTrail user guide, "Configure AWS KMS key policies for CloudTrail",
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.ops.conftest import ACCOUNT, SESSION

ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
        "Resource": "*"}


def key_policy(*actions):
    statements = [ROOT]
    if actions:
        statements.append({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                           "Action": list(actions), "Resource": "*", "Condition": {
                               "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture
def trail_env(aws):
    SESSION.client("s3", region_name="us-east-1").create_bucket(Bucket="trail-logs")
    return SESSION.client("kms", region_name="us-east-1"), SESSION.client("cloudtrail", region_name="us-east-1")


def new_key(kms, *actions):
    return kms.create_key(Policy=key_policy(*actions))["KeyMetadata"]["Arn"]


@pytest.mark.parametrize("actions", [(), ("kms:GenerateDataKey*",), ("kms:DescribeKey",), ("kms:Encrypt",
                                                                                          "kms:DescribeKey")])
def test_fails_key_policy_without_cloudtrail(trail_env, actions):
    kms, cloudtrail = trail_env
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.create_trail(Name="data-events", S3BucketName="trail-logs", KmsKeyId=new_key(kms, *actions))
    assert excinfo.value.response["Error"]["Code"] == "InsufficientEncryptionPolicyException"


@pytest.mark.parametrize("actions", [("kms:GenerateDataKey*", "kms:DescribeKey"),
                                     ("kms:GenerateDataKey", "kms:DescribeKey"), ("kms:*",)])
def test_key_policy_admitting_cloudtrail_is_accepted(trail_env, actions):
    kms, cloudtrail = trail_env
    key = new_key(kms, *actions)
    assert cloudtrail.create_trail(Name="data-events", S3BucketName="trail-logs", KmsKeyId=key)["KmsKeyId"] == key


def test_update_trail_checks_the_new_key(trail_env):
    kms, cloudtrail = trail_env
    cloudtrail.create_trail(Name="data-events", S3BucketName="trail-logs")
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.update_trail(Name="data-events", KmsKeyId=new_key(kms))
    assert excinfo.value.response["Error"]["Code"] == "InsufficientEncryptionPolicyException"
    cloudtrail.update_trail(Name="data-events", KmsKeyId=new_key(kms, "kms:GenerateDataKey*", "kms:DescribeKey"))


def test_fails_missing_key(trail_env):
    _, cloudtrail = trail_env
    with pytest.raises(ClientError) as excinfo:
        cloudtrail.create_trail(Name="data-events", S3BucketName="trail-logs", KmsKeyId="alias/no-such-key")
    assert excinfo.value.response["Error"]["Code"] == "KmsKeyNotFoundException"


def test_moto_itself_accepts_an_unusable_key(trail_env, moto_patched):
    """If this fails, moto checks trail keys itself: revisit strict/cloudtrail_kms.py."""
    from moto.cloudtrail.models import cloudtrail_backends

    kms, _ = trail_env
    backend = cloudtrail_backends[ACCOUNT]["us-east-1"]
    original = moto_patched["cloudtrail_create_trail"]
    trail = original(backend, "unchecked", "trail-logs", None, None, False, False, False, False, None, None,
                     new_key(kms), [])
    moto_patched["cloudtrail_update_trail"](backend, "unchecked", None, None, None, None, None, None, None,
                                                      None, None, "alias/no-such-key")
    assert trail.kms_key_id == "alias/no-such-key"
