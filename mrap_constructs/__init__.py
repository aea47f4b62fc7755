"""mrap_constructs: AWS CDK v2 constructs for Amazon S3 Multi-Region Access Points.

Every public name is imported here, so a type checker sees the real signatures (``py.typed``). Importing the package
loads aws-cdk-lib (and its Node.js runtime) and nothing of the emulator: no moto, no cryptography, no boto3. The
boto3 side — the ``mrap`` CLI, the custom-resource handlers, the Region facts they share — is the separate package
``mrap_runtime``, which does not load aws-cdk-lib.
"""

from __future__ import annotations

from mrap_constructs.access_point import (
    GLOBAL_ENDPOINT_SUFFIX,
    IMultiRegionAccessPoint,
    MultiRegionAccessPoint,
    MultiRegionAccessPointBase,
)
from mrap_constructs.backfill import BatchReplicationBackfill
from mrap_constructs.bucket import MrapBucket
from mrap_constructs.cloudfront import MrapDistribution
from mrap_constructs.lock import LockResult, ReplacementError, enforce_lock
from mrap_constructs.log_bucket import AccessLogBucket
from mrap_constructs.monitoring.alarms import AlarmThresholds, ReplicationAlarms
from mrap_constructs.monitoring.dashboard import MrapDashboard
from mrap_constructs.monitoring.trail import DataEventsTrail
from mrap_constructs.mrap_set import MrapSet
from mrap_constructs.naming import bucket_name
from mrap_constructs.options import (
    BackfillOptions,
    CloudFrontOptions,
    FailoverOptions,
    MonitoringOptions,
    PrivateLinkOptions,
)
from mrap_constructs.policy import MultiRegionAccessPointPolicy
from mrap_constructs.replication import (
    BucketReplication,
    ReplicationDestination,
    ReplicationMode,
    ReplicationOptions,
    replication_plan,
    replication_rules,
)
from mrap_constructs.routes import MultiRegionAccessPointRoutes, failover_dials
from mrap_runtime.regions import (
    CONTROL_PLANE_REGION,
    MAX_REGIONS,
    MRAP_REGIONS,
    OPT_IN_REGIONS,
    ROUTES_API_REGIONS,
    SUPPORTED_REGIONS,
)

__all__ = [
    "CONTROL_PLANE_REGION",
    "GLOBAL_ENDPOINT_SUFFIX",
    "MAX_REGIONS",
    "MRAP_REGIONS",
    "OPT_IN_REGIONS",
    "ROUTES_API_REGIONS",
    "SUPPORTED_REGIONS",
    "AccessLogBucket",
    "AlarmThresholds",
    "BackfillOptions",
    "BatchReplicationBackfill",
    "BucketReplication",
    "CloudFrontOptions",
    "DataEventsTrail",
    "FailoverOptions",
    "IMultiRegionAccessPoint",
    "LockResult",
    "MonitoringOptions",
    "MrapBucket",
    "MrapDashboard",
    "MrapDistribution",
    "MrapSet",
    "MultiRegionAccessPoint",
    "MultiRegionAccessPointBase",
    "MultiRegionAccessPointPolicy",
    "MultiRegionAccessPointRoutes",
    "PrivateLinkOptions",
    "ReplacementError",
    "ReplicationAlarms",
    "ReplicationDestination",
    "ReplicationMode",
    "ReplicationOptions",
    "bucket_name",
    "enforce_lock",
    "failover_dials",
    "replication_plan",
    "replication_rules",
]
