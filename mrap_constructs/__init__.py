"""mrap_constructs: AWS CDK v2 constructs for Amazon S3 Multi-Region Access Points.

Names are imported lazily, so ``mrap_constructs.ops`` (boto3 only: the ``mrap`` CLI, the custom-resource
handlers) does not load aws-cdk-lib and its Node.js runtime.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "GLOBAL_ENDPOINT_SUFFIX": "access_point",
    "IMultiRegionAccessPoint": "access_point",
    "MultiRegionAccessPoint": "access_point",
    "MultiRegionAccessPointBase": "access_point",
    "MrapBucket": "bucket",
    "MrapDistribution": "cloudfront",
    "MultiRegionAccessPointPolicy": "policy",
    "AccessLogBucket": "log_bucket",
    "DataEventsTrail": "monitoring.trail",
    "BatchReplicationBackfill": "backfill",
    "MrapDashboard": "monitoring.dashboard",
    "ReplicationAlarms": "monitoring.alarms",
    "AlarmThresholds": "monitoring.alarms",
    "MrapSet": "mrap_set",
    "bucket_name": "naming",
    "enforce_lock": "lock",
    "LockResult": "lock",
    "ReplacementError": "lock",
    "CONTROL_PLANE_REGION": "regions",
    "MAX_REGIONS": "regions",
    "MRAP_REGIONS": "regions",
    "OPT_IN_REGIONS": "regions",
    "ROUTES_API_REGIONS": "regions",
    "SUPPORTED_REGIONS": "regions",
    "BucketReplication": "replication",
    "ReplicationDestination": "replication",
    "ReplicationMode": "replication",
    "ReplicationOptions": "replication",
    "replication_plan": "replication",
    "replication_rules": "replication",
    "MultiRegionAccessPointRoutes": "routes",
    "failover_dials": "routes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"mrap_constructs.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mrap_constructs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
