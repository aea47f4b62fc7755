"""A replication rule must not be applied before its destination bucket exists.

S3 rejects ``PutBucketReplication`` when a destination bucket does not exist or is not versioned ("Both source and
destination buckets must have versioning enabled"), which is why this project applies rules in a wave after every
bucket: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, flat, replication_configurations

NAME = "ReplicationBeforeDestination"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html"
FIX = "apply the replication configuration from a stack that depends on every destination bucket's stack"


def check(assembly: Assembly) -> Iterator[Finding]:
    buckets: dict[str, str] = {}  # name -> stack that creates it
    for stack in assembly.stacks.values():
        for _, props in stack.resources("AWS::S3::Bucket"):
            if isinstance(props.get("BucketName"), str):
                buckets[props["BucketName"]] = stack.name
    for stack in assembly.stacks.values():
        for logical_id, location, configuration in replication_configurations(stack):
            for rule in configuration.get("Rules", []):
                destination = flat(rule.get("Destination", {}).get("Bucket", ""))
                name = destination.rsplit(":::", 1)[-1]
                if name not in buckets:
                    continue  # not created by this app (or named by reference: CloudFormation orders it)
                owner = buckets[name]
                # Within one stack CloudFormation orders by references; across stacks only dependencies order.
                if owner != stack.name and not assembly.deployed_before(owner, stack.name):
                    yield Finding(NAME, stack.name, logical_id, location,
                                  f"rule {rule.get('ID', '?')} replicates to {name}, which {owner} creates in wave "
                                  f"{assembly.wave(owner)}, not before this stack (wave {assembly.wave(stack.name)}): "
                                  "S3 rejects a rule whose destination does not exist yet")
