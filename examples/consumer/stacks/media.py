"""Two Regions of buckets, replication both ways, and one MRAP that an application role reads through."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from mrap_constructs import (
    BucketReplication,
    MrapBucket,
    MultiRegionAccessPoint,
    ReplicationDestination,
    bucket_name,
    replication_plan,
)

ACCOUNT = "111122223333"
REGIONS = ["us-east-1", "eu-west-1"]
PREFIX = "media"


class MediaBuckets(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, region: str) -> None:
        super().__init__(scope, id, env=cdk.Environment(account=ACCOUNT, region=region))
        self.bucket = MrapBucket(self, "Bucket", bucket_name=bucket_name(PREFIX, region, ACCOUNT))


class MediaReplication(cdk.Stack):
    def __init__(self, scope: Construct, id: str, *, region: str, destinations: list[str]) -> None:
        super().__init__(scope, id, env=cdk.Environment(account=ACCOUNT, region=region))
        BucketReplication(self, "Replication", source_bucket=bucket_name(PREFIX, region, ACCOUNT), destinations=[
            ReplicationDestination(region=d, bucket_name=bucket_name(PREFIX, d, ACCOUNT)) for d in destinations])


class MediaAccessPoint(cdk.Stack):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id, env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
        self.mrap = MultiRegionAccessPoint(self, "Mrap", name="media",
                                           buckets={r: bucket_name(PREFIX, r, ACCOUNT) for r in REGIONS})
        self.reader = iam.Role(self, "Reader", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        self.mrap.grant_read(self.reader)


def build(app: cdk.App) -> dict[str, cdk.Stack]:
    """Buckets first, then replication and the MRAP (they name the buckets)."""
    buckets = {r: MediaBuckets(app, f"media-bucket-{r}", region=r) for r in REGIONS}
    later: dict[str, cdk.Stack] = {"access-point": MediaAccessPoint(app, "media-access-point")}
    for source, destinations in replication_plan(REGIONS, "full-mesh").items():
        later[f"replication-{source}"] = MediaReplication(app, f"media-replication-{source}", region=source,
                                                          destinations=destinations)
    for stack in later.values():
        for bucket_stack in buckets.values():
            stack.add_dependency(bucket_stack)
    return {**{f"bucket-{r}": s for r, s in buckets.items()}, **later}
