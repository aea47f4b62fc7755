"""Is a request through an MRAP allowed for its caller? The MRAP policy, the routed bucket's policy and the caller's
identity policies, evaluated at the global endpoint before the request reaches the bucket.

AWS: a request through a Multi-Region Access Point must be allowed by the MRAP policy and by the underlying bucket's
policy; a bucket can delegate to the MRAP with ``Principal: *`` and ``s3:DataAccessPointAccount`` = the MRAP's
account (S3 User Guide, "Multi-Region Access Point permissions",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html, and "Delegating access
control to access points"). IAM's order ("Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit Deny in any
policy wins; within one account an Allow in the identity policy or the resource policy is enough; across accounts both
the resource policy and the caller's identity policy must allow. A resource policy's Principal naming an account (its
id or ``:root`` ARN) delegates to that account's IAM, so it admits a user or role only when an identity policy allows
too, in any account (``_policy_facts.principal_reach``, IAM User Guide "AWS JSON policy elements: Principal").

Evaluated per layer (the MRAP, then the bucket): statements whose ``Principal`` names the caller (``*``, the role or
the session ARN; the account or its root, as a delegation) and whose ``Condition`` holds
(``mrap_constructs._policy_facts.condition_holds``) for the request context below; actions and resources with
moto's statement matcher. The context stands in for S3's HTTPS endpoint
reached from the internet: ``aws:SecureTransport`` true, no ``aws:SourceVpce`` (so a VPC-endpoint-only Deny denies),
``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``s3:DataAccessPointAccount``, ``s3:DataAccessPointArn`` and
``s3:AccessPointNetworkOrigin`` = ``Internet``. The caller's identity: the emulator's ``testing`` keys are their
account's administrator; an IAM user (``iam.create_access_key``) and an assumed role are evaluated from their policies
in moto's IAM (``role_permissions``; a user's inline, attached and group policies), and a
role moto's IAM does not hold (the multi-account emulator's ``OrganizationAccountAccessRole``) counts as an
administrator too. Not evaluated: ``NotPrincipal``, permissions boundaries, SCPs, session policies, ACLs. (A
multi-object ``DeleteObjects`` never gets here: MRAPs do not serve it, ``operations``.)
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from mrap_constructs._policy_facts import DIRECT, condition_holds, principal_reach, statements

#: A resource policy's answer; ``DELEGATED``: only an Allow naming the caller's account applies, which admits the
#: caller when its identity policy allows too (``_policy_facts.principal_reach``).
ALLOWED, DELEGATED, DENIED, NEUTRAL = "allowed", "delegated", "denied", "neutral"


@dataclass(frozen=True)
class Caller:
    """Who signed the request: ``account``, ``arn`` (the session ARN for an assumed role, the user ARN for an IAM
    user), ``role_arn`` if any, ``user_name`` for an IAM user."""

    account: str
    arn: str
    role_arn: str | None = None
    user_name: str | None = None


def iam_user_key(access_key_id: str) -> tuple[Any, Any, str] | None:
    """(moto IAM user, its access key, account) holding ``access_key_id`` (``iam.create_access_key``), or None."""
    from moto.iam.models import iam_backends

    for account, partitions in list(iam_backends.items()):
        for backend in list(partitions.values()):
            for user in list(backend.users.values()):
                for key in list(user.access_keys):
                    if key.access_key_id == access_key_id:
                        return user, key, account
    return None


@dataclass(frozen=True)
class Decision:
    """``allowed`` and why (which layer denied, or ``allowed``)."""

    allowed: bool
    reason: str


def caller_for(access_key_id: str) -> Caller:
    """The principal behind ``access_key_id``: an STS session moto issued, else the root of the account moto files
    the key under (``get_account_id_from``: an IAM user's account, else moto's default account)."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for backend in list(sts_backends[account].values()):
            role = backend.get_assumed_role_from_access_key(access_key_id)
            if role is not None:
                return Caller(role.account_id, role.arn, role.role_arn)
    user = iam_user_key(access_key_id)
    if user is not None:
        return Caller(user[2], user[0].arn, user_name=user[0].name)
    account = get_account_id_from(access_key_id)
    return Caller(account, f"arn:aws:iam::{account}:root")


def action_for(method: str, key: str, query: str) -> str:
    """The IAM action S3 authorizes a request as (S3 API Reference, each operation's "Permissions")."""
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    version = "Version" if "versionId" in params else ""
    if not key:
        if method == "POST" and "delete" in params:
            return "s3:DeleteObject"
        if "versions" in params:
            return "s3:ListBucketVersions"
        if "uploads" in params:
            return "s3:ListBucketMultipartUploads"
        return "s3:ListBucket"
    if "tagging" in params:
        verb = {"PUT": "Put", "DELETE": "Delete"}.get(method, "Get")
        return f"s3:{verb}ObjectTagging" if not version else f"s3:{verb}ObjectVersionTagging"
    if "acl" in params:
        return "s3:PutObjectAcl" if method == "PUT" else "s3:GetObjectAcl"
    if method in ("PUT", "POST"):
        return "s3:RestoreObject" if "restore" in params else "s3:PutObject"
    if method == "DELETE":
        return "s3:AbortMultipartUpload" if "uploadId" in params else f"s3:DeleteObject{version}"
    if "uploadId" in params:
        return "s3:ListMultipartUploadParts"
    if "attributes" in params:
        return "s3:GetObjectAttributes"
    return f"s3:GetObject{version}"


def resource_policy(document: str | bytes | dict | None, caller: Caller, action: str, resource: str,
                    context: dict[str, str], cache: Any = None) -> str:
    """``denied`` (an explicit Deny applies), ``allowed`` (an Allow naming the caller applies, none denies),
    ``delegated`` (only an Allow naming the caller's account applies) or ``neutral``. A Deny naming the account denies
    every principal of it. ``cache``: a ``policy_cache.PolicyCache`` the document is parsed through."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult


    result = NEUTRAL
    for statement in statements(cache.document(document) if cache is not None else document):
        reach = principal_reach(statement.get("Principal"), account=caller.account, arn=caller.arn,
                                role_arn=caller.role_arn)
        if reach is None:
            continue
        if not condition_holds(statement.get("Condition", {}), context):
            continue
        # Principal and Condition are decided above; moto's matcher then only sees actions and resources.
        bare = {k: v for k, v in statement.items() if k not in ("Principal", "Condition")}
        matched = IAMPolicyStatement(bare).is_action_permitted(action, resource)
        if matched == PermissionResult.DENIED:
            return DENIED
        if matched == PermissionResult.PERMITTED:
            result = ALLOWED if reach == DIRECT or result == ALLOWED else DELEGATED
    return result


def identity(caller: Caller, action: str, resource: str, context: dict[str, str], cache: Any = None) -> str:
    """The caller's identity policies: ``allowed``, ``denied`` (explicit Deny) or ``neutral``."""
    from mrap_constructs.testing.dataplane import role_permissions

    if caller.user_name is not None:
        decision = role_permissions.evaluate_user(caller.account, caller.user_name, action, resource, context,
                                                  cache=cache)
    elif caller.role_arn is None or role_permissions._role(caller.role_arn) is None:
        return ALLOWED
    else:
        decision = role_permissions.evaluate(caller.role_arn, action, resource, context, cache=cache)
    if decision.allowed:
        return ALLOWED
    return DENIED if decision.reason.startswith("explicit deny") else NEUTRAL


def evaluate(*, caller: Caller, method: str, key: str, query: str, mrap_account: str, mrap_arn: str,
             mrap_policy: str | dict | None, bucket: str, bucket_account: str, bucket_policy: str | bytes | None,
             cache: Any = None) -> Decision:
    """The decision for ``caller`` sending ``method`` on ``key`` through the MRAP to ``bucket``.

    Args:
        caller: from ``caller_for``.
        method, key, query: the request (``key`` unquoted, empty for bucket-level requests).
        mrap_account, mrap_arn, mrap_policy: the MRAP and its stored policy (None: no policy).
        bucket, bucket_account, bucket_policy: the bucket the dials chose, its owner and its policy.
        cache: a ``policy_cache.PolicyCache`` the policies are parsed through. Default: none.
    """
    action = action_for(method, key, query)
    context = {"aws:SecureTransport": "true", "aws:PrincipalAccount": caller.account, "aws:PrincipalArn": caller.arn,
               "s3:DataAccessPointAccount": mrap_account, "s3:DataAccessPointArn": mrap_arn,
               "s3:AccessPointNetworkOrigin": "Internet"}
    layers = [("Multi-Region Access Point policy", mrap_account, mrap_policy,
               f"{mrap_arn}/object/{key}" if key else mrap_arn),
              ("bucket policy", bucket_account, bucket_policy,
               f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}")]
    # Identity policies grant access through an access point on the access point's ARN.
    own = identity(caller, action, layers[0][3], context, cache)
    results = []
    for name, account, document, resource in layers:
        policy = resource_policy(document, caller, action, resource, context, cache)
        if DENIED in (own, policy):
            where = name if policy == DENIED else "identity policy"
            return Decision(False, f"explicit deny of {action} in the {where}")
        same_account = caller.account == account
        # An account Principal delegates to the account's IAM: the identity policy decides, in any account.
        admitted = (policy == ALLOWED or own == ALLOWED) if same_account else (
            policy in (ALLOWED, DELEGATED) and own == ALLOWED)
        results.append((name, admitted))
    for name, admitted in results:
        if not admitted:
            return Decision(False, f"no {name} statement allows {action} for {caller.arn}")
    return Decision(True, "allowed")


def stored_mrap_policy(account: str, alias: str) -> str | None:
    """The policy ``PutMultiRegionAccessPointPolicy`` stored for the MRAP with ``alias``
    (``GetMultiRegionAccessPointPolicy``), or None."""
    from moto.s3control.models import s3control_backends

    points = s3control_backends[account]["aws"].multi_region_access_points.get(account, {}).values()
    policy = next((p.policy for p in list(points) if p.alias == alias), None)
    return json.dumps(policy) if isinstance(policy, dict) else policy
