"""The emulator's SSE-KMS replication rule (``testing/strict/replication_kms.py``): a role not granted the object's
key, or a key of another account whose policy does not admit the role, fails the replication, as S3 does
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from moto import mock_aws

from mrap_constructs.testing import patches
from mrap_constructs.testing.strict.replication_kms import problem

ACCOUNT, OTHER = "123456789012", "222222222222"


@pytest.fixture
def aws():
    old = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    with patches.installed(), mock_aws():
        yield
    for key, value in old.items():
        os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


def _role(statements: list[dict]) -> str:
    iam = boto3.client("iam")
    arn = iam.create_role(RoleName="replication", AssumeRolePolicyDocument=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName="replication", PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return arn


def _decrypt(key_arn: str) -> dict:
    return {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                          "StringLike": {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::src/*"}}}


def _source(**extra):
    return {"source_account": ACCOUNT, "source_region": "us-east-1", "source_bucket": "src", "key_name": "k", **extra}


def test_decrypt_denied_for_a_key_the_role_was_not_granted(aws):
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    other_key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    role = _role([_decrypt(other_key)])
    assert "is not allowed kms:Decrypt" in problem(role, **_source(source_key_id=key))
    assert problem(role, **_source(source_key_id=other_key)) == ""


def test_another_account_s_replica_key_must_admit_the_role_in_its_key_policy(aws):
    key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    issued = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/admin",
                                             RoleSessionName="setup")["Credentials"]
    other = boto3.client("kms", region_name="eu-west-1", aws_access_key_id=issued["AccessKeyId"],
                         aws_secret_access_key=issued["SecretAccessKey"], aws_session_token=issued["SessionToken"])
    replica_key = other.create_key()["KeyMetadata"]["Arn"]
    role = _role([_decrypt(key), {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": replica_key}])
    common = _source(source_key_id=key, replica_key_id=replica_key, destination_account=OTHER,
                     destination_region="eu-west-1", destination_bucket="dst")
    assert "does not admit" in problem(role, **common), "the default key policy admits only its own account"
    other.put_key_policy(KeyId=replica_key, PolicyName="default", Policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:Encrypt",
         "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": [role]},
                                        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}]}))
    assert problem(role, **common) == ""
