"""Strict resource policies (``mrap_constructs.testing.strict.policy_principals``): IAM role/user principals must exist.

AWS source: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html (IAM role
principals; unique-id resolution when the policy is saved).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.ops.conftest import ACCOUNT, SESSION

MISSING_ROLE = f"arn:aws:iam::{ACCOUNT}:role/not-yet-created"
OTHER_ACCOUNT_ROLE = "arn:aws:iam::210987654321:role/reader"


def policy(principal, resource="*", action="s3:GetObject"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}]})


@pytest.fixture
def role(aws):
    iam = SESSION.client("iam", region_name="us-east-1")
    return iam.create_role(RoleName="reader", Path="/app/", AssumeRolePolicyDocument="{}")["Role"]["Arn"]


ACCEPTED = [
    "*", {"AWS": "*"}, {"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    {"Service": "cloudtrail.amazonaws.com"}, {"Federated": "cognito-identity.amazonaws.com"},
]


def code(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_bucket_policy_rejects_missing_role_and_accepts_real_ones(role):
    s3 = SESSION.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="policy-bucket")
    for bad in ({"AWS": MISSING_ROLE}, {"AWS": [role, OTHER_ACCOUNT_ROLE]}, {"AWS": f"arn:aws:iam::{ACCOUNT}:user/x"}):
        with pytest.raises(ClientError) as excinfo:
            s3.put_bucket_policy(Bucket="policy-bucket", Policy=policy(bad, "arn:aws:s3:::policy-bucket/*"))
        assert code(excinfo) == ("MalformedPolicy", "Invalid principal in policy")
    for good in [*ACCEPTED, {"AWS": role}]:
        s3.put_bucket_policy(Bucket="policy-bucket", Policy=policy(good, "arn:aws:s3:::policy-bucket/*"))


def test_conditions_are_not_resolved(role):
    """AWS does not resolve condition values: a missing role named in aws:PrincipalArn is accepted."""
    s3 = SESSION.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="condition-bucket")
    document = json.loads(policy({"AWS": ACCOUNT}, "arn:aws:s3:::condition-bucket/*"))
    document["Statement"][0]["Condition"] = {"ArnEquals": {"aws:PrincipalArn": MISSING_ROLE}}
    s3.put_bucket_policy(Bucket="condition-bucket", Policy=json.dumps(document))


def test_key_policy_rejects_missing_role(role):
    kms = SESSION.client("kms", region_name="us-east-1")
    with pytest.raises(ClientError) as excinfo:
        kms.create_key(Policy=policy({"AWS": MISSING_ROLE}, action="kms:*"))
    assert code(excinfo) == ("MalformedPolicyDocumentException",
                             "Policy contains a statement with one or more invalid principals.")
    key = kms.create_key(Policy=policy({"AWS": role}, action="kms:*"))["KeyMetadata"]["KeyId"]
    with pytest.raises(ClientError) as excinfo:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy({"AWS": MISSING_ROLE}, action="kms:*"))
    assert code(excinfo)[0] == "MalformedPolicyDocumentException"
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))


def test_topic_policy_rejects_missing_role(role):
    sns = SESSION.client("sns", region_name="us-east-1")
    with pytest.raises(ClientError) as excinfo:
        sns.create_topic(Name="t", Attributes={"Policy": policy({"AWS": MISSING_ROLE}, action="sns:Publish")})
    assert code(excinfo) == ("InvalidParameter", "Invalid parameter: Policy Error: PrincipalNotFound")
    arn = sns.create_topic(Name="t", Attributes={"Policy": policy({"AWS": role}, action="sns:Publish")})["TopicArn"]
    with pytest.raises(ClientError) as excinfo:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                                 AttributeValue=policy({"AWS": MISSING_ROLE}, action="sns:Publish"))
    assert code(excinfo)[0] == "InvalidParameter"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy",
                             AttributeValue=policy({"Service": "cloudwatch.amazonaws.com"}, action="sns:Publish"))


def test_moto_itself_accepts_missing_principals(aws, moto_patched):
    """If this fails, moto checks policy principals itself: revisit strict/policy_principals.py."""
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends
    from moto.sns.models import sns_backends

    bad = policy({"AWS": MISSING_ROLE})
    s3 = s3_backends[ACCOUNT]["aws"]
    s3.create_bucket("unchecked-bucket", "us-east-1")
    moto_patched["s3_put_bucket_policy"](s3, "unchecked-bucket", bad.encode())
    kms = kms_backends[ACCOUNT]["us-east-1"]
    key = moto_patched["kms_create_key"](kms, bad, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "", None)
    moto_patched["kms_put_key_policy"](kms, key.id, bad)
    sns = sns_backends[ACCOUNT]["us-east-1"]
    topic = moto_patched["sns_create_topic"](sns, "unchecked", {"Policy": bad})
    moto_patched["sns_set_topic_attribute"](sns, topic.arn, "policy", bad)
    assert MISSING_ROLE in topic.policy and kms.keys[key.id].policy == bad
