"""How a resource policy's Principal reaches a caller (``_policy_facts.principal_reach``).

AWS: an account identifier or its ``:root`` ARN as Principal "delegates authority to the account" and "does not limit
permissions to only the root user" (IAM User Guide, "AWS JSON policy elements: Principal", AWS account principals,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
"""

from __future__ import annotations

import pytest

from mrap_constructs._policy_facts import DIRECT, THROUGH_ACCOUNT, principal_reach

ACCOUNT = "111111111111"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s1"


def reach(principal, arn=SESSION, role_arn=ROLE):
    return principal_reach(principal, account=ACCOUNT, arn=arn, role_arn=role_arn)


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ROLE}, {"AWS": SESSION},
                                       {"AWS": f"arn:aws:iam::{ACCOUNT}:role/team/reader"}, {"AWS": [ROOT, ROLE]}])
def test_naming_the_role_or_everyone_reaches_it_directly(principal):
    assert reach(principal) == DIRECT


@pytest.mark.parametrize("principal", [{"AWS": ACCOUNT}, {"AWS": ROOT}, {"AWS": [ACCOUNT, ROOT]}])
def test_naming_the_account_is_a_delegation_for_its_roles(principal):
    assert reach(principal) == THROUGH_ACCOUNT


def test_naming_the_account_reaches_its_root_directly():
    assert reach({"AWS": ACCOUNT}, arn=ROOT, role_arn=None) == DIRECT


@pytest.mark.parametrize("principal", [{"AWS": "222222222222"}, {"AWS": "arn:aws:iam::222222222222:role/reader"},
                                       {"Service": "s3.amazonaws.com"}, None])
def test_other_principals_do_not_reach_the_caller(principal):
    assert reach(principal) is None
