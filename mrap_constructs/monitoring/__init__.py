"""Monitoring for MRAP buckets: pure metric factories (``metrics``), alarms (``alarms``), the dashboard
(``dashboard``), in the style of cdk-monitoring-constructs."""

from mrap_constructs.monitoring.alarms import AlarmThresholds, ReplicationAlarms
from mrap_constructs.monitoring.dashboard import MrapDashboard
from mrap_constructs.monitoring.metrics import (
    MetricSpec,
    ReplicationMetrics,
    replication_metrics,
    replication_search,
    request_metrics,
)

__all__ = ["AlarmThresholds", "MetricSpec", "MrapDashboard", "ReplicationAlarms", "ReplicationMetrics",
           "replication_metrics", "replication_search", "request_metrics"]
