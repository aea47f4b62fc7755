"""mrap_constructs: AWS CDK v2 constructs for Amazon S3 Multi-Region Access Points."""

from mrap_constructs.access_point import (
    GLOBAL_ENDPOINT_SUFFIX,
    IMultiRegionAccessPoint,
    MultiRegionAccessPoint,
    MultiRegionAccessPointBase,
)
from mrap_constructs.bucket import MrapBucket
from mrap_constructs.naming import bucket_name
from mrap_constructs.regions import (
    CONTROL_PLANE_REGION,
    MAX_REGIONS,
    MRAP_REGIONS,
    OPT_IN_REGIONS,
    ROUTES_API_REGIONS,
    SUPPORTED_REGIONS,
)
from mrap_constructs.replication import (
    BucketReplication,
    ReplicationDestination,
    ReplicationMode,
    ReplicationOptions,
    replication_plan,
    replication_rules,
)

__all__ = [
    "BucketReplication",
    "CONTROL_PLANE_REGION",
    "GLOBAL_ENDPOINT_SUFFIX",
    "IMultiRegionAccessPoint",
    "MAX_REGIONS",
    "MRAP_REGIONS",
    "MrapBucket",
    "MultiRegionAccessPoint",
    "MultiRegionAccessPointBase",
    "OPT_IN_REGIONS",
    "ROUTES_API_REGIONS",
    "ReplicationDestination",
    "ReplicationMode",
    "ReplicationOptions",
    "SUPPORTED_REGIONS",
    "bucket_name",
    "replication_plan",
    "replication_rules",
]
