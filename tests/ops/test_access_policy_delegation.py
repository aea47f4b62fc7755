"""An MRAP policy naming the account admits a role of it only when the role's identity policy allows too
(``access_policy.evaluate``).

AWS: an account principal in a resource policy delegates to the account's IAM (IAM User Guide, "AWS JSON policy
elements: Principal", AWS account principals,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts;
"Policy evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
a request through an MRAP needs the MRAP policy and the bucket policy (S3 User Guide, "Multi-Region Access Point
permissions", https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html).
"""

from __future__ import annotations

import json

import pytest

from mrap_constructs.testing.dataplane import access_policy
from tests.ops.conftest import ACCOUNT, SESSION

ARN = f"arn:aws:s3::{ACCOUNT}:accesspoint/media.mrap"
BUCKET = "media-bucket"
DELEGATION = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                        "Resource": f"arn:aws:s3:::{BUCKET}/*",
                                        "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}}]})


def _mrap_policy(principal: str) -> str:
    return json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject",
                                      "Resource": f"{ARN}/object/*"}]})


def _role(name: str, allow: bool) -> access_policy.Caller:
    iam = SESSION.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": []}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if allow:
        read = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{ARN}/object/*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps(read))
    return access_policy.Caller(ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/s", arn)


def _decide(caller: access_policy.Caller, mrap_policy: str) -> access_policy.Decision:
    return access_policy.evaluate(caller=caller, method="GET", key="k", query="", mrap_account=ACCOUNT, mrap_arn=ARN,
                                  mrap_policy=mrap_policy, bucket=BUCKET, bucket_account=ACCOUNT,
                                  bucket_policy=DELEGATION)


@pytest.mark.parametrize("principal", [ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"])
def test_account_principal_does_not_admit_a_role_no_identity_policy_allows(aws, principal):
    decision = _decide(_role("nobody", allow=False), _mrap_policy(principal))
    assert not decision.allowed
    assert "no Multi-Region Access Point policy statement allows s3:GetObject" in decision.reason


def test_account_principal_admits_a_role_its_identity_policy_allows(aws):
    assert _decide(_role("reader", allow=True), _mrap_policy(ACCOUNT)).allowed


def test_naming_the_role_admits_it_without_an_identity_policy(aws):
    """Same account: an Allow in the resource policy naming the role itself is enough (Policy evaluation logic)."""
    caller = _role("named", allow=False)
    assert _decide(caller, _mrap_policy(caller.role_arn)).allowed


def test_account_principal_admits_the_account_root(aws):
    root = access_policy.Caller(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
    assert _decide(root, _mrap_policy(ACCOUNT)).allowed
