"""Cross-account SSE-KMS replication: the destination account's key must admit the source account's replication role.

S3 re-encrypts a replica with ``ReplicaKmsKeyID``; when that key belongs to another account, its key policy must grant
the source's replication role ``kms:Encrypt`` (S3 User Guide, "Replicating encrypted objects", "Granting additional
permissions for cross-account scenarios"), or every SSE-KMS object fails to replicate (status ``FAILED``).
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import (
    Assembly,
    Finding,
    as_list,
    flat,
    referenced_id,
    replication_configurations,
    statements,
)

NAME = "ReplicaKeyDeniesSourceRole"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"
FIX = ("allow kms:Encrypt to the source account's replication role in the destination key's policy: principal the "
       "source account, the role ARN in an aws:PrincipalArn condition (mrap_constructs.stacks.bucket."
       "admit_replication_roles)")


def _allows_account(policy: object, account: str) -> bool:
    for statement in statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if not any(a in ("kms:*", "kms:Encrypt", "*") for a in actions):
            continue
        principal = statement.get("Principal")
        entries = [flat(p) for p in as_list(principal.get("AWS"))] if isinstance(principal, dict) else []
        if principal == "*" or any(p == account or f":iam::{account}:" in p for p in entries):
            return True
    return False


def check(assembly: Assembly) -> Iterator[Finding]:
    keys: dict[tuple[str, str, str], object] = {}  # (account, region, alias) -> key policy
    for stack in assembly.stacks.values():
        for _, props in stack.resources("AWS::KMS::Alias"):
            key = stack.resource(referenced_id(props.get("TargetKeyId")) or "") or {}
            if key.get("Type") == "AWS::KMS::Key":
                keys[(stack.account, stack.region, flat(props.get("AliasName")))] = key["Properties"].get("KeyPolicy")
    for stack in assembly.stacks.values():
        for logical_id, location, configuration in replication_configurations(stack):
            for rule in configuration.get("Rules", []):
                key_arn = flat((rule.get("Destination", {}).get("EncryptionConfiguration") or {}).get(
                    "ReplicaKmsKeyID", ""))
                parts = key_arn.split(":")
                if len(parts) < 6 or parts[4] == stack.account or not parts[5].startswith("alias/"):
                    continue  # same account (IAM decides), or a key ARN this assembly does not create
                policy = keys.get((parts[4], parts[3], parts[5]))
                if policy is None or _allows_account(policy, stack.account):
                    continue
                yield Finding(NAME, stack.name, logical_id, location,
                              f"rule {rule.get('ID', '?')} encrypts replicas with {key_arn} (account {parts[4]}), "
                              f"whose key policy grants account {stack.account}'s replication role no kms:Encrypt: "
                              "every SSE-KMS object fails to replicate")
