"""The MRAP policy and the routed bucket's policy, evaluated for the caller at the global endpoint."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from mrap_constructs.testing.dataplane import access_policy

pytestmark = pytest.mark.e2e

TWO = ["us-east-1", "eu-west-1"]
OTHER = "210987654321"
DATA = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]


def _put_mrap_policy(mrap, *statements: dict) -> None:
    control = mrap.dataplane.aws.client("s3control", "us-west-2")
    control.put_multi_region_access_point_policy(
        AccountId=mrap.dataplane.aws.account, ClientToken="policy",
        Details={"Name": mrap.point.name,
                 "Policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})})


def _mrap_allow(mrap, principal: str) -> dict:
    return {"Sid": "Allow", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": DATA,
            "Resource": [mrap.arn, f"{mrap.arn}/object/*"]}


def _delegate(mrap, with_delegation: bool = True) -> None:
    account = mrap.dataplane.aws.account
    for region, bucket in mrap.buckets.items():
        statements = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        if with_delegation:
            statements.append({"Sid": "DelegateToAccessPointsOfAccount", "Effect": "Allow", "Principal": "*",
                               "Action": DATA, "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                               "Condition": {"StringEquals": {"s3:DataAccessPointAccount": account}}})
        mrap.bucket_client(region).put_bucket_policy(
            Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def _client_of(mrap, account: str):
    creds = mrap.dataplane.aws.credentials(account)
    env = mrap.dataplane.environment()
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds.get("AWS_SESSION_TOKEN"), verify=env["AWS_CA_BUNDLE"],
                        config=Config(proxies={"https": env["HTTPS_PROXY"]}, retries={"max_attempts": 1}))


def _code(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["ResponseMetadata"]["HTTPStatusCode"], err.value.response["Error"]["Code"]


@pytest.mark.mrap(regions=TWO)
def test_allowed_principal_passes(mrap):
    _put_mrap_policy(mrap, _mrap_allow(mrap, f"arn:aws:iam::{mrap.dataplane.aws.account}:root"))
    _delegate(mrap)
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    assert mrap.s3.get_object(Bucket=mrap.arn, Key="k")["Body"].read() == b"x"
    assert mrap.dataplane.plane.denials == []


@pytest.mark.mrap(regions=TWO)
def test_explicit_deny_in_the_mrap_policy_denies(mrap):
    """The app's OnlyThroughVpcEndpoints: StringNotEquals aws:SourceVpce; a request from outside a VPC carries no
    aws:SourceVpce, so the Deny's condition holds and the Deny wins over the Allow."""
    _put_mrap_policy(mrap, _mrap_allow(mrap, f"arn:aws:iam::{mrap.dataplane.aws.account}:root"),
                     {"Sid": "OnlyThroughVpcEndpoints", "Effect": "Deny", "Principal": "*", "Action": "s3:*Object*",
                      "Resource": [mrap.arn, f"{mrap.arn}/object/*"],
                      "Condition": {"StringNotEquals": {"aws:SourceVpce": ["vpce-0123456789abcdef0"]}}})
    assert _code(lambda: mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")) == (403, "AccessDenied")
    assert "explicit deny of s3:PutObject in the Multi-Region Access Point policy" in \
        mrap.dataplane.plane.denials[0].reason
    assert mrap.dataplane.plane.log[-1].status == 403


@pytest.mark.mrap(regions=TWO)
def test_insecure_transport_deny_does_not_deny_https(mrap):
    _put_mrap_policy(mrap, {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                            "Resource": [mrap.arn, f"{mrap.arn}/object/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")


@pytest.mark.mrap(regions=TWO)
def test_another_account_not_in_the_mrap_policy_is_denied(mrap):
    _put_mrap_policy(mrap, _mrap_allow(mrap, f"arn:aws:iam::{mrap.dataplane.aws.account}:root"))
    _delegate(mrap)
    other = _client_of(mrap, OTHER)
    assert _code(lambda: other.get_object(Bucket=mrap.arn, Key="k")) == (403, "AccessDenied")
    assert "no Multi-Region Access Point policy statement allows s3:GetObject" in mrap.dataplane.plane.denials[0].reason


@pytest.mark.mrap(regions=TWO)
def test_another_account_admitted_by_the_mrap_policy_and_the_delegation_passes(mrap):
    _put_mrap_policy(mrap, _mrap_allow(mrap, OTHER))
    _delegate(mrap)
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    other = _client_of(mrap, OTHER)
    assert other.get_object(Bucket=mrap.arn, Key="k")["Body"].read() == b"x"


@pytest.mark.mrap(regions=TWO)
def test_bucket_without_the_delegation_denies_another_account(mrap):
    _put_mrap_policy(mrap, _mrap_allow(mrap, OTHER))
    _delegate(mrap, with_delegation=False)
    other = _client_of(mrap, OTHER)
    assert _code(lambda: other.get_object(Bucket=mrap.arn, Key="k")) == (403, "AccessDenied")
    assert "no bucket policy statement allows s3:GetObject" in mrap.dataplane.plane.denials[0].reason


def test_actions_s3_authorizes_requests_as():
    assert access_policy.action_for("GET", "k", "") == "s3:GetObject"
    assert access_policy.action_for("HEAD", "k", "versionId=1") == "s3:GetObjectVersion"
    assert access_policy.action_for("PUT", "k", "tagging=") == "s3:PutObjectTagging"
    assert access_policy.action_for("DELETE", "k", "versionId=1") == "s3:DeleteObjectVersion"
    assert access_policy.action_for("GET", "", "list-type=2") == "s3:ListBucket"
    assert access_policy.action_for("GET", "", "versions=") == "s3:ListBucketVersions"
    assert access_policy.action_for("POST", "k", "uploads=") == "s3:PutObject"
