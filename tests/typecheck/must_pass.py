"""Must pass type-checking (scripts/typecheck.py): the public API as the README uses it. Never imported or run."""

import aws_cdk as cdk

from mrap_constructs import (
    AlarmThresholds,
    FailoverOptions,
    MonitoringOptions,
    MrapSet,
    PrivateLinkOptions,
    ReplicationOptions,
)

app = cdk.App()
media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1"], account="111122223333",
                replication=ReplicationOptions(mode="one-way", rtc=True),
                monitoring=MonitoringOptions(alarms=AlarmThresholds(latency_seconds=600)),
                failover=FailoverOptions(active=["us-east-1"]),
                privatelink=PrivateLinkOptions(regions=["us-east-1"]))
cdk.Tags.of(media).add("team", "storage")
name: str = media.access_point_stack.stack_name
