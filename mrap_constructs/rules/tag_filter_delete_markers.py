"""A replication rule that filters on tags cannot replicate delete markers.

botocore ``s3/2006-03-01`` shape ``DeleteMarkerReplication``: "If your Filter includes a Tag element, the
DeleteMarkerReplication Status must be set to Disabled, because Amazon S3 does not support replicating delete markers
for tag-based rules."
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, replication_configurations

NAME = "TagFilterWithDeleteMarkers"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html"
FIX = "set DeleteMarkerReplication to Disabled (replication.delete_markers: false), or drop the tag filter"


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        for logical_id, location, configuration in replication_configurations(stack):
            for rule in configuration.get("Rules", []):
                filter_ = rule.get("Filter", {}) or {}
                tagged = "Tag" in filter_ or bool((filter_.get("And") or {}).get("Tags"))
                if tagged and (rule.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled":
                    yield Finding(NAME, stack.name, logical_id, location,
                                  f"rule {rule.get('ID', '?')} filters on tags and replicates delete markers: "
                                  "PutBucketReplication rejects it")
