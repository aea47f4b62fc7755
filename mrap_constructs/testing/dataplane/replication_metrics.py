"""S3 Replication metrics, published to the emulated CloudWatch for rules that enable them.

AWS (S3 User Guide, "Monitoring progress with replication metrics and S3 Event Notifications" and "Metrics and
dimensions" / "Amazon S3 replication metrics", https://docs.aws.amazon.com/AmazonS3/latest/userguide/
repl-metrics.html): namespace ``AWS/S3``; dimensions ``SourceBucket``, ``DestinationBucket``, ``RuleId``; metrics
``ReplicationLatency`` (Seconds), ``BytesPendingReplication`` (Bytes), ``OperationsPendingReplication`` (Count),
``OperationsFailedReplication`` (Count); published in the source bucket's Region for rules with
``Destination.Metrics`` (or S3 RTC) enabled.

AWS publishes aggregated data points, once a minute. The engine adds a value per event to a ``MetricBuffer`` and
puts the buffer to moto's CloudWatch in one call per account and Region when its worker goes idle, when the oldest
value has waited ``FLUSH_SECONDS``, and before ``wait_idle`` returns (so a test sees every value at once after it):
a metric with one value in a batch is a plain ``Value``; with more, a ``StatisticValues`` set (``SampleCount``,
``Sum``, ``Minimum``, ``Maximum``), which keeps every statistic an alarm or a query reads exact (CloudWatch User
Guide, "Publish statistic sets", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
publishingMetrics.html#publishingDataPoints1). No request per job: the buffer calls moto's backend in-process.
"""

from __future__ import annotations

import threading
import time
from typing import Any

NAMESPACE = "AWS/S3"
#: The longest a value waits in the buffer while the engine is busy (AWS: a data point a minute).
FLUSH_SECONDS = 0.5


def _dimensions(source_bucket: str, destination_bucket: str, rule_id: str) -> list[dict[str, str]]:
    return [{"Name": "SourceBucket", "Value": source_bucket},
            {"Name": "DestinationBucket", "Value": destination_bucket},
            {"Name": "RuleId", "Value": rule_id}]


class MetricBuffer:
    """Replication metric values waiting to be put to moto's CloudWatch, one batch per account and Region.

    Example:
        buffer = MetricBuffer()
        buffer.add("123456789012", "us-east-1", "src", "dst", "rule", {"ReplicationLatency": (0.05, "Seconds")})
        buffer.flush()
    """

    def __init__(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        #: (account, Region) -> (source, destination, rule, metric) -> (unit, [values])
        self._values: dict[tuple[str, str], dict[tuple[str, str, str, str], tuple[str, list[float]]]] = {}
        self._oldest: float | None = None

    def add(self, account_id: str, region: str, source_bucket: str, destination_bucket: str, rule_id: str,
            values: dict[str, tuple[float, str]]) -> None:
        """Buffer ``{metric: (value, unit)}`` of one rule."""
        with self._lock:
            batch = self._values.setdefault((account_id, region), {})
            for name, (value, unit) in values.items():
                batch.setdefault((source_bucket, destination_bucket, rule_id, name), (unit, []))[1].append(value)
            if self._oldest is None:
                self._oldest = time.monotonic()

    def due(self) -> float | None:
        """Seconds until the buffer must be flushed (<= 0: now), or None when it is empty."""
        with self._lock:
            return None if self._oldest is None else self._oldest + self.flush_seconds - time.monotonic()

    def flush(self) -> None:
        """Put every buffered value to moto's CloudWatch: one ``put_metric_data`` per account and Region."""
        with self._lock:
            values, self._values, self._oldest = self._values, {}, None
        if not values:
            return
        from moto.cloudwatch.models import cloudwatch_backends

        for (account_id, region), batch in values.items():
            data: list[dict[str, Any]] = []
            for (source, destination, rule_id, name), (unit, points) in batch.items():
                # No Timestamp: moto stamps the datum with its own (naive UTC) clock, which its queries compare to.
                datum: dict[str, Any] = {"MetricName": name, "Unit": unit,
                                         "Dimensions": _dimensions(source, destination, rule_id)}
                if len(points) == 1:
                    datum["Value"] = points[0]
                else:
                    datum["StatisticValues"] = {"SampleCount": float(len(points)), "Sum": float(sum(points)),
                                                "Minimum": float(min(points)), "Maximum": float(max(points))}
                data.append(datum)
            cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)
