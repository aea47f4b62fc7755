"""Which replication rules apply to an object: filters, status, priority, per destination.

AWS (S3 User Guide, "Replication configuration file elements" and "Replicating delete markers"; S3 API Reference,
``ReplicationRule``):
- a rule applies when its ``Status`` is ``Enabled`` and its filter matches: ``Prefix``, one ``Tag``, or ``And`` of a
  prefix and tags (every tag must be on the object); an empty filter (or the V1 rule-level ``Prefix``) matches all;
- when several rules with the same destination apply, the one with the highest ``Priority`` (the larger number)
  is used; rules with different destinations all apply (one replica per destination);
- objects encrypted with SSE-KMS are replicated only by rules with ``SourceSelectionCriteria.SseKmsEncryptedObjects``
  enabled, re-encrypted under ``Destination.EncryptionConfiguration.ReplicaKmsKeyID``;
- a delete marker (a DELETE without a version id) is replicated only by rules with ``DeleteMarkerReplication``
  enabled, and never by a tag-filtered rule (S3 rejects that configuration); deleting a version is never replicated;
- ``ReplicaModifications`` enabled replicates metadata changes made on replicas (tags here) back.

moto stores the configuration as parsed XML: numbers are strings, one ``Tag`` is a dict and several a list, an
empty ``Prefix`` is ``None``; ``parse`` normalizes that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _enabled(node: Any) -> bool:
    return isinstance(node, dict) and node.get("Status") == "Enabled"


def _tags(node: Any) -> dict[str, str]:
    if not node:
        return {}
    items = node if isinstance(node, list) else [node]
    return {str(t["Key"]): str(t.get("Value") or "") for t in items}


@dataclass(frozen=True)
class Rule:
    """One replication rule, normalized."""

    id: str
    priority: int
    enabled: bool
    destination_bucket: str
    prefix: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    delete_markers: bool = False
    sse_kms: bool = False
    replica_modifications: bool = False
    replica_kms_key_id: str | None = None
    storage_class: str | None = None
    metrics: bool = False

    def matches(self, key: str, tags: Mapping[str, str]) -> bool:
        return key.startswith(self.prefix) and all(tags.get(k) == v for k, v in self.tags.items())


def parse(configuration: Mapping[str, Any] | None) -> tuple[str | None, list[Rule]]:
    """(role ARN, rules) of a bucket's stored replication configuration (moto's form)."""
    if not configuration:
        return None, []
    rules = []
    raw_rules = configuration.get("Rule") or []
    for index, raw in enumerate(raw_rules if isinstance(raw_rules, list) else [raw_rules]):
        filter_ = raw.get("Filter") or {}
        and_ = filter_.get("And") or {}
        prefix = and_.get("Prefix") or filter_.get("Prefix") or raw.get("Prefix") or ""
        tags = _tags(and_.get("Tag")) or _tags(filter_.get("Tag"))
        destination = raw.get("Destination") or {}
        criteria = raw.get("SourceSelectionCriteria") or {}
        rules.append(Rule(
            id=str(raw.get("ID") or f"rule-{index}"),
            priority=int(raw.get("Priority") or 0),
            enabled=raw.get("Status") == "Enabled",
            destination_bucket=str(destination.get("Bucket", "")).removeprefix("arn:aws:s3:::"),
            prefix=str(prefix),
            tags=tags,
            delete_markers=_enabled(raw.get("DeleteMarkerReplication")) and not tags,
            sse_kms=_enabled(criteria.get("SseKmsEncryptedObjects")),
            replica_modifications=_enabled(criteria.get("ReplicaModifications")),
            replica_kms_key_id=(destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"),
            storage_class=destination.get("StorageClass"),
            metrics=_enabled(destination.get("Metrics")) or _enabled(destination.get("ReplicationTime")),
        ))
    return configuration.get("Role"), rules


def _per_destination(rules: list[Rule]) -> list[Rule]:
    best: dict[str, Rule] = {}
    for rule in rules:
        if rule.destination_bucket not in best or rule.priority > best[rule.destination_bucket].priority:
            best[rule.destination_bucket] = rule
    return [best[d] for d in sorted(best)]


def for_object(rules: list[Rule], key: str, tags: Mapping[str, str], *, kms_encrypted: bool) -> list[Rule]:
    """The rule that replicates a new object version to each destination (none: not replicated)."""
    applicable = [r for r in rules if r.enabled and r.matches(key, tags) and (r.sse_kms or not kms_encrypted)]
    return _per_destination(applicable)


def for_delete_marker(rules: list[Rule], key: str) -> list[Rule]:
    """The rules that replicate a new delete marker for ``key``, one per destination."""
    chosen = _per_destination([r for r in rules if r.enabled and r.matches(key, {})])
    return [r for r in chosen if r.delete_markers]


def for_replica_modification(rules: list[Rule], key: str, tags: Mapping[str, str]) -> list[Rule]:
    """The rules that carry a metadata change made on a replica back (``ReplicaModifications``)."""
    return [r for r in _per_destination([r for r in rules if r.enabled and r.matches(key, tags)])
            if r.replica_modifications]
