"""Metric factories: pure functions returning ``cloudwatch.Metric`` with the right Region on each metric.

Replication metrics exist for rules with ``Metrics`` enabled (on by default, see ``ReplicationOptions.metrics``),
published in the **source** bucket's Region with dimensions ``SourceBucket``, ``DestinationBucket``, ``RuleId``.
Request metrics exist only for buckets with a request-metrics configuration (``MrapBucket(request_metrics=True)``,
filter id ``EntireBucket``), in the bucket's Region.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

NAMESPACE = "AWS/S3"
#: The request-metrics filter id ``MrapBucket`` creates.
REQUEST_METRICS_FILTER = "EntireBucket"
DEFAULT_PERIOD = Duration.minutes(5)


@dataclass(frozen=True)
class ReplicationMetrics:
    """The four replication metrics of one rule (source bucket -> destination bucket)."""

    latency: cw.Metric
    pending_operations: cw.Metric
    pending_bytes: cw.Metric
    failed_operations: cw.Metric


def replication_metrics(*, source_bucket: str, destination_bucket: str, rule_id: str, source_region: str,
                        label: str | None = None, period: Duration = DEFAULT_PERIOD) -> ReplicationMetrics:
    """Metrics of one replication rule, in the source Region.

    Args:
        source_bucket, destination_bucket: bucket names (not ARNs).
        rule_id: the rule's ``ID`` (``to-{region}`` for rules built by ``replication_rules``).
        source_region: where S3 publishes them (the source bucket's Region).
        label: legend label (dashboards). Default: none (alarms render the plain metric form).
        period: aggregation period. Default: 5 minutes.
    """
    dimensions = {"SourceBucket": source_bucket, "DestinationBucket": destination_bucket, "RuleId": rule_id}

    def metric(name: str, statistic: str, unit: cw.Unit) -> cw.Metric:
        return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=dimensions, statistic=statistic,
                         period=period, region=source_region, unit=unit, label=label)

    return ReplicationMetrics(
        latency=metric("ReplicationLatency", "Maximum", cw.Unit.SECONDS),
        pending_operations=metric("OperationsPendingReplication", "Maximum", cw.Unit.COUNT),
        pending_bytes=metric("BytesPendingReplication", "Maximum", cw.Unit.BYTES),
        failed_operations=metric("OperationsFailedReplication", "Sum", cw.Unit.COUNT),
    )


def request_metrics(*, bucket: str, region: str, period: Duration = DEFAULT_PERIOD) -> dict[str, cw.Metric]:
    """``4xxErrors``, ``5xxErrors`` (sums) and ``FirstByteLatency`` (p99) of a bucket with request metrics on."""
    dimensions = {"BucketName": bucket, "FilterId": REQUEST_METRICS_FILTER}

    def metric(name: str, statistic: str) -> cw.Metric:
        return cw.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=dimensions, statistic=statistic,
                         period=period, region=region, label=f"{region} {name}")

    return {"4xxErrors": metric("4xxErrors", "Sum"), "5xxErrors": metric("5xxErrors", "Sum"),
            "FirstByteLatency": metric("FirstByteLatency", "p99")}
