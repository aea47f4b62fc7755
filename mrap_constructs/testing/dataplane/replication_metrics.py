"""S3 Replication metrics, published to the emulated CloudWatch for rules that enable them.

AWS (S3 User Guide, "Monitoring progress with replication metrics and S3 Event Notifications" and "Metrics and
dimensions" / "Amazon S3 replication metrics"): namespace ``AWS/S3``; dimensions ``SourceBucket``,
``DestinationBucket``, ``RuleId``; metrics ``ReplicationLatency`` (Seconds), ``BytesPendingReplication`` (Bytes),
``OperationsPendingReplication`` (Count), ``OperationsFailedReplication`` (Count); published in the source bucket's
Region for rules with ``Destination.Metrics`` (or S3 RTC) enabled. AWS publishes once a minute; the emulator
publishes a data point on every change, so a test sees it at once.
"""

from __future__ import annotations

from typing import Any

NAMESPACE = "AWS/S3"


def publish(account_id: str, region: str, source_bucket: str, destination_bucket: str, rule_id: str,
            values: dict[str, tuple[float, str]]) -> None:
    """Put ``{metric: (value, unit)}`` to moto's CloudWatch in ``region``."""
    from moto.cloudwatch.models import cloudwatch_backends

    dimensions = [{"Name": "SourceBucket", "Value": source_bucket},
                  {"Name": "DestinationBucket", "Value": destination_bucket},
                  {"Name": "RuleId", "Value": rule_id}]
    # No Timestamp: moto stamps the datum with its own (naive UTC) clock, which its queries compare against.
    data: list[dict[str, Any]] = [{"MetricName": name, "Value": value, "Unit": unit, "Dimensions": dimensions}
                                  for name, (value, unit) in values.items()]
    cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)
