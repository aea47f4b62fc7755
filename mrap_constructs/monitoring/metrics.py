"""Metric factories: pure functions describing CloudWatch metrics, with the right Region on each.

They return ``MetricSpec`` values (plain Python, no aws-cdk-lib objects until asked): ``spec.to_metric()`` gives a
``cloudwatch.Metric`` for graphs and your own alarms; ``ReplicationAlarms`` turns specs straight into alarms. At
17 Regions a full mesh has 272 rules and over a thousand metrics, so not creating a construct per metric keeps synth
fast.

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
DEFAULT_PERIOD_SECONDS = 300
#: Dimensions of S3 replication metrics.
REPLICATION_DIMENSIONS = ("SourceBucket", "DestinationBucket", "RuleId")


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric, described.

    Attributes:
        namespace, metric_name, dimensions (``{name: value}``), statistic, period_seconds, region, unit, label.
    """

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    region: str
    period_seconds: int = DEFAULT_PERIOD_SECONDS
    unit: str | None = None
    label: str | None = None

    @property
    def dimensions_map(self) -> dict[str, str]:
        return dict(self.dimensions)

    def graph_entry(self) -> list:
        """The metric as a line of a dashboard graph (the ``metrics`` array of a CloudWatch dashboard body)."""
        options: dict[str, object] = {"region": self.region, "stat": self.statistic}
        if self.label:
            options["label"] = self.label
        if self.period_seconds != DEFAULT_PERIOD_SECONDS:
            options["period"] = self.period_seconds
        return [self.namespace, self.metric_name, *(part for pair in self.dimensions for part in pair), options]

    def to_metric(self) -> cw.Metric:
        """The ``cloudwatch.Metric`` (for graphs, or ``metric.create_alarm(...)`` in your own stacks)."""
        return cw.Metric(namespace=self.namespace, metric_name=self.metric_name, dimensions_map=self.dimensions_map,
                         statistic=self.statistic, period=Duration.seconds(self.period_seconds), region=self.region,
                         unit=cw.Unit[self.unit.upper()] if self.unit else None, label=self.label)


@dataclass(frozen=True)
class ReplicationMetrics:
    """The four replication metrics of one rule (source bucket -> destination bucket)."""

    latency: MetricSpec
    pending_operations: MetricSpec
    pending_bytes: MetricSpec
    failed_operations: MetricSpec


def replication_metrics(*, source_bucket: str, destination_bucket: str, rule_id: str, source_region: str,
                        label: str | None = None, period_seconds: int = DEFAULT_PERIOD_SECONDS) -> ReplicationMetrics:
    """Metrics of one replication rule, in the source Region.

    Args:
        source_bucket, destination_bucket: bucket names (not ARNs).
        rule_id: the rule's ``ID`` (``to-{region}`` for rules built by ``replication_rules``).
        source_region: where S3 publishes them (the source bucket's Region).
        label: legend label. Default: none.
        period_seconds: aggregation period. Default: 300 (5 minutes).
    """
    dimensions = (("SourceBucket", source_bucket), ("DestinationBucket", destination_bucket), ("RuleId", rule_id))

    def spec(name: str, statistic: str, unit: str) -> MetricSpec:
        return MetricSpec(NAMESPACE, name, dimensions, statistic, source_region, period_seconds, unit, label)

    return ReplicationMetrics(
        latency=spec("ReplicationLatency", "Maximum", "Seconds"),
        pending_operations=spec("OperationsPendingReplication", "Maximum", "Count"),
        pending_bytes=spec("BytesPendingReplication", "Maximum", "Bytes"),
        failed_operations=spec("OperationsFailedReplication", "Sum", "Count"),
    )


def replication_search_expression(*, source_bucket: str, metric_name: str, statistic: str,
                                  period_seconds: int = DEFAULT_PERIOD_SECONDS) -> str:
    """A CloudWatch ``SEARCH`` expression over every replication rule of ``source_bucket`` (one line per rule).

    A dashboard widget then needs one expression instead of one metric per destination, and picks up rules added
    later without a redeploy.
    """
    schema = "{" + ",".join((NAMESPACE, *REPLICATION_DIMENSIONS)) + "}"
    return (f"SEARCH('{schema} MetricName=\"{metric_name}\" SourceBucket=\"{source_bucket}\"', "
            f"'{statistic}', {period_seconds})")


def replication_search(*, source_bucket: str, source_region: str, metric_name: str, statistic: str,
                       label: str | None = None, period_seconds: int = DEFAULT_PERIOD_SECONDS) -> cw.MathExpression:
    """``replication_search_expression`` as a ``cloudwatch.MathExpression`` searching ``source_region``, for your own
    ``GraphWidget``s."""
    expression = replication_search_expression(source_bucket=source_bucket, metric_name=metric_name,
                                               statistic=statistic, period_seconds=period_seconds)
    return cw.MathExpression(expression=expression, search_region=source_region, label=label or "",
                             period=Duration.seconds(period_seconds))


def request_metrics(*, bucket: str, region: str, period_seconds: int = DEFAULT_PERIOD_SECONDS) -> dict[str, MetricSpec]:
    """``4xxErrors``, ``5xxErrors`` (sums) and ``FirstByteLatency`` (p99) of a bucket with request metrics on."""
    dimensions = (("BucketName", bucket), ("FilterId", REQUEST_METRICS_FILTER))
    return {name: MetricSpec(NAMESPACE, name, dimensions, statistic, region, period_seconds, None, f"{region} {name}")
            for name, statistic in (("4xxErrors", "Sum"), ("5xxErrors", "Sum"), ("FirstByteLatency", "p99"))}
