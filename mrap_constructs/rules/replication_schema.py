"""A replication configuration must satisfy S3's schema rules that CloudFormation and the SDK do not check at synth.

botocore ``s3/2006-03-01``: shape ``ReplicationTime`` ("Must be specified together with a Metrics block"); shape
``Destination`` member ``EncryptionConfiguration`` ("If SourceSelectionCriteria is specified, you must specify this
element", for ``SseKmsEncryptedObjects``); operation ``PutBucketReplication`` ("When you add the Filter element in the
configuration, you must also add ... DeleteMarkerReplication, Status, and Priority"). Rule ids must be unique.
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, replication_configurations

NAME = "ReplicationSchema"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html"
FIX = ("enable Metrics with ReplicationTime, give ReplicaKmsKeyID with SseKmsEncryptedObjects, give Priority and "
       "DeleteMarkerReplication with a Filter, and unique rule ids")


def _enabled(block: object) -> bool:
    return isinstance(block, dict) and block.get("Status") == "Enabled"


def problems(rule: dict) -> list[str]:
    """What is wrong with one V2 rule (SDK shape)."""
    found = []
    destination = rule.get("Destination", {}) or {}
    if _enabled(destination.get("ReplicationTime")) and not _enabled(destination.get("Metrics")):
        found.append("ReplicationTime without Metrics")
    sse_kms = _enabled((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects"))
    if sse_kms and not (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"):
        found.append("SseKmsEncryptedObjects without Destination.EncryptionConfiguration.ReplicaKmsKeyID")
    if "Filter" in rule and ("Priority" not in rule or "DeleteMarkerReplication" not in rule):
        found.append("a Filter without Priority and DeleteMarkerReplication")
    return found


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        for logical_id, location, configuration in replication_configurations(stack):
            rules = configuration.get("Rules", [])
            ids = [r.get("ID") for r in rules if r.get("ID")]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                yield Finding(NAME, stack.name, logical_id, location, f"rule ids {duplicates} are not unique")
            for rule in rules:
                for problem in problems(rule):
                    yield Finding(NAME, stack.name, logical_id, location,
                                  f"rule {rule.get('ID', '?')}: {problem}; PutBucketReplication rejects it")
