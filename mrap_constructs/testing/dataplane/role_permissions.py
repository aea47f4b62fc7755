"""Does a replication role allow an action on a resource? Evaluated from the role's policies in moto's IAM.

AWS: S3 replicates as the rule's role; "if the role lacks a permission, replication of the object fails and its
status becomes FAILED" (S3 User Guide, "Setting up permissions for live replication" and "Getting replication
status information"). IAM's evaluation ("Policy evaluation logic", IAM User Guide): an explicit Deny in any
policy wins, otherwise an Allow is needed (no Allow is an implicit deny).

Evaluated: the role's inline policies and attached managed policies (default version), with moto's statement
matcher (actions, resources, wildcards, NotAction/NotResource); statements with a ``Condition`` are applied only
when the condition holds for ``context`` (``mrap_constructs._policy_facts.condition_holds``: IAM semantics, a
key the request does not carry does not match). Not evaluated: permissions boundaries, SCPs, session policies, the
destination bucket's policy and KMS key policies (a same-account set needs none of them to allow replication).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mrap_constructs._policy_facts import condition_holds


@dataclass(frozen=True)
class Decision:
    """``allowed`` and why (``explicit deny``, ``allowed``, ``no statement allows``, ``no such role``)."""

    allowed: bool
    reason: str


def _role(role_arn: str):  # -> moto.iam.models.Role | None
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    if account not in iam_backends:
        return None
    try:
        return iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto raises its own NotFound (IAMNotFoundException)
        return None


def _documents(role, cache: Any = None) -> list[dict]:
    """The role's (or user's, or group's) inline and attached policies, parsed (through ``cache``, a
    ``policy_cache.PolicyCache``, when given: parsed once per policy text)."""
    load = cache.document if cache is not None else (lambda doc: json.loads(doc) if isinstance(doc, str) else doc)
    documents = [load(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        version = next(v for v in policy.versions if v.is_default)
        documents.append(load(version.document))
    return documents


def evaluate(role_arn: str, action: str, resource: str, context: Mapping[str, str] | None = None, *,
             cache: Any = None) -> Decision:
    """IAM's decision for ``role_arn`` calling ``action`` on ``resource``.

    Args:
        role_arn: the replication rule's ``Role``.
        action: e.g. ``s3:ReplicateObject``.
        resource: e.g. ``arn:aws:s3:::bucket/key``.
        context: condition keys of the request. Default: none.
        cache: a ``policy_cache.PolicyCache`` the policies are parsed through. Default: none (parsed each call).
    """
    role = _role(role_arn)
    if role is None:
        return Decision(False, f"no such role {role_arn}")
    return _decide(_documents(role, cache), action, resource, context)


def evaluate_user(account: str, user_name: str, action: str, resource: str,
                  context: Mapping[str, str] | None = None, *, cache: Any = None) -> Decision:
    """IAM's decision for the IAM user ``user_name`` of ``account``: its inline and attached policies and those of
    its groups (IAM User Guide, "Policy evaluation logic": identity-based policies of the user and its groups)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    user = backend.users.get(user_name)
    if user is None:
        return Decision(False, f"no such user {user_name}")
    documents = _documents(user, cache)
    for group in backend.get_groups_for_user(user_name):
        documents += _documents(group, cache)
    return _decide(documents, action, resource, context)


def _decide(documents: list[dict], action: str, resource: str, context: Mapping[str, str] | None) -> Decision:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult


    allowed = False
    for document in documents:
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        applicable = [s for s in statements if condition_holds(s.get("Condition", {}), dict(context or {}))]
        # moto's IAMPolicy over these statements, without its JSON round trip: a Deny in any wins, else an Allow.
        for statement in applicable:
            result = IAMPolicyStatement(statement).is_action_permitted(action, resource)
            if result == PermissionResult.DENIED:
                return Decision(False, f"explicit deny of {action} on {resource}")
            allowed = allowed or result == PermissionResult.PERMITTED
    return Decision(True, "allowed") if allowed else Decision(False, f"no statement allows {action} on {resource}")
