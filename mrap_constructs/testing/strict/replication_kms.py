"""S3 replication of SSE-KMS objects: the rule's role must be allowed to decrypt with the source object's key and to
encrypt with the replica key, and a key of another account must admit the role in its key policy.

AWS sources:
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html ("Replicating
  encrypted objects"): the replication role needs ``kms:Decrypt`` on the keys that encrypt the source objects and
  ``kms:Encrypt`` on the destination's key; "Granting additional permissions for cross-account scenarios": the key
  owner of another account must grant the source's role in the key policy. Without them the object's replication
  status becomes ``FAILED``.
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html: an S3 Batch Operations job
  on encrypted objects needs its role to have access to the keys that encrypt them.
- https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html: cross-account use
  of a KMS key needs both the key policy and the caller's IAM policy.

moto 5.2.5 has no replication at all; the emulator's replication engine (``testing/dataplane/replication.py``) and its
Batch Replication (``testing/batch_operations.py``) call ``problem`` for each SSE-KMS object version they copy. The
request context is what S3 sends KMS: ``kms:ViaService`` ``s3.{region}.amazonaws.com``, the encryption context
``aws:s3:arn`` (the object's ARN), the key's aliases (``kms:ResourceAliases``), and for a key policy the caller's
``aws:PrincipalArn`` and ``aws:PrincipalAccount``.
"""

from __future__ import annotations

import json
from typing import Any

from mrap_constructs._policy_facts import condition_holds
from mrap_constructs.testing.dataplane import role_permissions
from mrap_constructs.testing.strict._lookup import as_list, find_key, statements


def _aliases(key: Any) -> list[str]:
    """The key's alias names (moto keeps them on the key: ``Key.aliases``)."""
    return sorted(getattr(key, "aliases", {}) or {})


def _identity_allows(role_arn: str, action: str, key: Any, context: dict[str, str]) -> bool:
    aliases = _aliases(key) or [""]
    return any(role_permissions.evaluate(role_arn, action, key.arn,
                                         {**context, **({"kms:ResourceAliases": alias} if alias else {})}).allowed
               for alias in aliases)


def _key_policy_allows(key: Any, role_arn: str, action: str, context: dict[str, str]) -> bool:
    from moto.iam.access_control import IAMPolicy, PermissionResult


    role_account = role_arn.split(":")[4]
    document = json.loads(key.policy) if isinstance(key.policy, str) else key.policy
    full = {**context, "aws:PrincipalArn": role_arn, "aws:PrincipalAccount": role_account}

    def names_role(statement: dict[str, Any]) -> bool:
        principal = statement.get("Principal")
        if principal == "*":
            return True
        entries = [str(p) for p in as_list(principal.get("AWS"))] if isinstance(principal, dict) else []
        return any(p in ("*", role_arn, role_account) or p.endswith(f":iam::{role_account}:root") for p in entries)

    applicable = [st for st in statements(document) if names_role(st) and condition_holds(st.get("Condition", {}),
                                                                                           full)]
    if not applicable:
        return False
    result = IAMPolicy(json.dumps({**document, "Statement": applicable})).is_action_permitted(action, key.arn)
    return result == PermissionResult.PERMITTED


def _check(role_arn: str, action: str, key_id: str, account: str, region: str, object_arn: str) -> str:
    key = find_key(key_id, account, region)
    if key is None:
        return f"KMS key {key_id} not found in {account}/{region}: {action} fails"
    context = {"kms:ViaService": f"s3.{key.region}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": object_arn}
    if not _identity_allows(role_arn, action, key, context):
        return f"{role_arn} is not allowed {action} with {key.arn} (its IAM policies grant no such statement)"
    if key.account_id != role_arn.split(":")[4] and not _key_policy_allows(key, role_arn, action, context):
        return f"the key policy of {key.arn} (account {key.account_id}) does not admit {role_arn} for {action}"
    return ""


def problem(role_arn: str, *, source_account: str, source_region: str, source_bucket: str, key_name: str,
            source_key_id: str | None, replica_key_id: str | None = None, destination_account: str | None = None,
            destination_region: str | None = None, destination_bucket: str | None = None) -> str:
    """Why ``role_arn`` cannot replicate this SSE-KMS object version ("" when it can): decrypt with
    ``source_key_id`` (the object's key), and, when ``replica_key_id`` is given, encrypt the replica with it."""
    if source_key_id:
        why = _check(role_arn, "kms:Decrypt", source_key_id, source_account, source_region,
                     f"arn:aws:s3:::{source_bucket}/{key_name}")
        if why:
            return why
    if replica_key_id and destination_bucket:
        return _check(role_arn, "kms:Encrypt", replica_key_id, destination_account or source_account,
                      destination_region or source_region, f"arn:aws:s3:::{destination_bucket}/{key_name}")
    return ""
