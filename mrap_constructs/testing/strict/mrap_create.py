"""S3 Control CreateMultiRegionAccessPoint: the name and Region rules of Multi-Region Access Points.

A Multi-Region Access Point has a name matching ``^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$`` (``InvalidRequest``), at most
17 Regions with one bucket per Region (``InvalidRequest``), and every bucket must exist (``NoSuchBucket``).

AWS sources:
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-restrictions-limitations.html
  (17 Regions, one bucket per Region, buckets must exist when the access point is created)
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-naming.html
- botocore/data/s3control/2018-08-20/service-2.json shape ``MultiRegionAccessPointName`` (pattern, max 50; botocore
  checks only the length client-side)

moto 5.2.5 rejects only a duplicate name; it accepts any name, any number of Regions, two buckets in one Region and
buckets that do not exist (it reports those in us-east-1).
"""

from __future__ import annotations

import re
from typing import Any

from mrap_constructs.testing.strict._lookup import find_bucket

NAME = re.compile(r"^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$")
MAX_REGIONS = 17


def check(name: str, regions: list[dict[str, str]]) -> None:
    """Raise S3 Control's error for the first rule the request breaks."""
    from moto.s3control.exceptions import S3ControlError

    if not NAME.match(name or ""):
        raise S3ControlError("InvalidRequest", f"Multi-Region Access Point name {name!r} is not valid: use 3-50 "
                                               "lowercase letters, numbers and hyphens, starting and ending with a "
                                               "letter or number")
    if len(regions) > MAX_REGIONS:
        raise S3ControlError("InvalidRequest", f"A Multi-Region Access Point supports at most {MAX_REGIONS} "
                                               f"Regions; {len(regions)} were given")
    seen: dict[str, str] = {}
    for item in regions:
        bucket = find_bucket(item.get("Bucket", ""))
        if bucket is None:
            raise S3ControlError("NoSuchBucket", "The specified bucket does not exist")
        if bucket.region_name in seen:
            raise S3ControlError("InvalidRequest", f"A Multi-Region Access Point can have only one bucket per "
                                                   f"Region: {seen[bucket.region_name]} and {bucket.name} are both "
                                                   f"in {bucket.region_name}")
        seen[bucket.region_name] = bucket.name


def install(originals: dict[str, Any]) -> None:
    """Wrap ``S3ControlBackend.create_multi_region_access_point`` as it stands (after moto_patches' Region fix);
    the function wrapped is kept in ``originals["strict_create_multi_region_access_point"]``."""
    from moto.s3control.models import S3ControlBackend

    original = S3ControlBackend.create_multi_region_access_point
    originals["strict_create_multi_region_access_point"] = original

    def create_multi_region_access_point(self: Any, account_id: str, name: str, public_access_block: Any,
                                         regions: list[dict[str, str]], region_name: str) -> Any:
        check(name, regions)
        return original(self, account_id, name, public_access_block, regions, region_name)

    S3ControlBackend.create_multi_region_access_point = create_multi_region_access_point
