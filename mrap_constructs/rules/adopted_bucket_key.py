"""An adopted SSE-KMS bucket's own key must be granted to its replication role.

With ``SseKmsEncryptedObjects`` on, S3 replicates an SSE-KMS object only when the rule's role may ``kms:Decrypt``
with the key that encrypts it (S3 User Guide, "Replicating encrypted objects"): a role allowed only keys carrying an
alias that no stack creates in the bucket's account and Region (the set's own key alias, for a bucket the set did not
create) never decrypts the bucket's objects, and each one fails to replicate.
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, as_list, flat, statements

NAME = "AdoptedBucketKeyNotGranted"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"
FIX = "name the adopted bucket's key (config existing_bucket_keys: {region: key ARN}) so the role may decrypt with it"


def _decrypt_aliases(stack) -> tuple[bool, set[str]]:
    """(any kms:Decrypt statement, the aliases such statements are limited to) in the stack's IAM policies."""
    found, aliases = False, set()
    for resource_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for _, props in stack.resources(resource_type):
            for statement in statements(props.get("PolicyDocument")):
                if "kms:Decrypt" not in as_list(statement.get("Action")):
                    continue
                condition = (statement.get("Condition") or {}).get("ForAnyValue:StringEquals") or {}
                limited = [flat(a) for a in as_list(condition.get("kms:ResourceAliases"))]
                if not limited:
                    return True, set()  # a key named directly: granted
                found = True
                aliases |= set(limited)
    return found, aliases


def check(assembly: Assembly) -> Iterator[Finding]:
    created_buckets = {flat(props.get("BucketName")) for stack in assembly.stacks.values()
                       for _, props in stack.resources("AWS::S3::Bucket")}
    aliases = {(stack.account, stack.region, flat(props.get("AliasName"))) for stack in assembly.stacks.values()
               for _, props in stack.resources("AWS::KMS::Alias")}
    for stack in assembly.stacks.values():
        for logical_id, resource in stack.template.get("Resources", {}).items():
            if resource.get("Type") != "Custom::S3BucketReplication":
                continue
            bucket = flat(resource.get("Properties", {}).get("Bucket", ""))
            rules = resource.get("Properties", {}).get("Rules") or []
            kms_rules = [r for r in rules if ((r.get("SourceSelectionCriteria") or {}).get(
                "SseKmsEncryptedObjects") or {}).get("Status") == "Enabled"]
            if not kms_rules or bucket in created_buckets:
                continue
            any_decrypt, limited = _decrypt_aliases(stack)
            if any_decrypt and (not limited or any((stack.account, stack.region, a) in aliases for a in limited)):
                continue
            yield Finding(NAME, stack.name, logical_id, "Properties.Rules",
                          f"{bucket} is not created by this app and its SSE-KMS objects replicate, but the role may "
                          f"decrypt only with keys aliased {sorted(limited) or 'none'}, which no stack creates in "
                          f"{stack.region}: its objects fail to replicate")
