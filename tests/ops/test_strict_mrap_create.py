"""Strict CreateMultiRegionAccessPoint (``mrap_constructs.testing.strict.mrap_create``).

AWS source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-restrictions-limitations.html
and botocore/data/s3control/2018-08-20/service-2.json shape ``MultiRegionAccessPointName``.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.ops.conftest import ACCOUNT, BUCKETS, SESSION

BLOCK = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}


@pytest.fixture
def control(aws):
    for region, bucket in BUCKETS.items():
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        SESSION.client("s3", region_name=region).create_bucket(Bucket=bucket, **kwargs)
    SESSION.client("s3", region_name="us-east-1").create_bucket(Bucket="second-in-us-east-1")
    return SESSION.client("s3control", region_name="us-west-2")


def create(control, name, buckets):
    return control.create_multi_region_access_point(
        AccountId=ACCOUNT, ClientToken="t",
        Details={"Name": name, "PublicAccessBlock": BLOCK, "Regions": [{"Bucket": b} for b in buckets]})


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_valid_access_point_is_created(control):
    assert create(control, "media-1", BUCKETS.values())["RequestTokenARN"]


@pytest.mark.parametrize("name", ["Media", "-media", "media-", "ab", "a" * 51, "media_1"])
def test_fails_invalid_name(control, name):
    with pytest.raises(ClientError) as excinfo:
        create(control, name, BUCKETS.values())
    assert code(excinfo) == "InvalidRequest"


@pytest.mark.filterwarnings("ignore:Exception\\(S3ControlError\\) with code NoSuchBucket")
def test_fails_missing_bucket(control):
    with pytest.raises(ClientError) as excinfo:
        create(control, "media", [BUCKETS["us-east-1"], "no-such-bucket"])
    assert code(excinfo) == "NoSuchBucket"


def test_fails_two_buckets_in_one_region(control):
    with pytest.raises(ClientError) as excinfo:
        create(control, "media", [BUCKETS["us-east-1"], "second-in-us-east-1"])
    assert code(excinfo) == "InvalidRequest"


def test_fails_more_than_17_regions(control):
    with pytest.raises(ClientError) as excinfo:
        create(control, "media", [BUCKETS["us-east-1"]] * 18)
    assert code(excinfo) == "InvalidRequest"
    assert "17" in excinfo.value.response["Error"]["Message"]


def test_moto_itself_accepts_every_broken_request(control, moto_patched):
    """If this fails, moto validates MRAP requests itself: revisit strict/mrap_create.py."""
    from moto.s3control.models import s3control_backends

    backend = s3control_backends[ACCOUNT]["aws"]
    original = moto_patched["create_multi_region_access_point"]
    for name, buckets in (("Bad_Name", BUCKETS.values()), ("missing", ["no-such-bucket"]),
                          ("same-region", [BUCKETS["us-east-1"], "second-in-us-east-1"]),
                          ("too-many", [BUCKETS["us-east-1"]] * 18)):
        original(backend, ACCOUNT, name, {}, [{"Bucket": b} for b in buckets], "us-west-2")
    assert set(backend.multi_region_access_points[ACCOUNT]) >= {"Bad_Name", "missing", "same-region", "too-many"}
