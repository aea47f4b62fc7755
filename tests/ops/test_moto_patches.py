"""Each moto patch: moto still behaves as the patch assumes (fails when an upgrade fixes it), and the patch works."""

from __future__ import annotations

from mrap_constructs.testing import moto_patches
from tests.ops.conftest import ACCOUNT, BUCKETS, SESSION


def test_moto_still_reports_every_mrap_bucket_in_us_east_1(mrap):
    """If this fails, moto fixed MRAP bucket Regions: drop moto_patches._mrap_bucket_regions."""
    from moto.s3control.models import s3control_backends

    backend = s3control_backends[ACCOUNT]["aws"]
    original = moto_patches.ORIGINALS["create_multi_region_access_point"]
    original(backend, ACCOUNT, "unpatched", {}, [{"Bucket": BUCKETS["eu-west-1"]}], "us-west-2")
    regions = backend.multi_region_access_points[ACCOUNT]["unpatched"].regions
    assert regions == [{"Bucket": BUCKETS["eu-west-1"], "Region": "us-east-1"}]


def test_patched_mrap_reports_each_bucket_region(mrap):
    point = SESSION.client("s3control", region_name="us-west-2").get_multi_region_access_point(
        AccountId=ACCOUNT, Name=mrap)["AccessPoint"]
    assert {r["Region"]: r["Bucket"] for r in point["Regions"]} == BUCKETS
