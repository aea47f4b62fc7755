"""The Regions that serve the MRAP APIs (``mrap_constructs.testing.strict.mrap_api_regions``).

AWS sources: botocore/data/s3control/2018-08-20/service-2.json, CreateMultiRegionAccessPoint, GetMultiRegionAccessPoint
and the other control-plane operations ("This action will always be routed to the US West (Oregon) Region");
https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html (routes API in
us-east-1, us-west-2, ap-southeast-2, ap-northeast-1, eu-west-1); the 301 PermanentRedirect answered elsewhere as
observed in https://github.com/gruntwork-io/cloud-nuke/issues/667.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mrap_constructs.regions import CONTROL_PLANE_REGION, ROUTES_API_REGIONS
from mrap_constructs.testing import moto_patches
from tests.ops.conftest import ACCOUNT, SESSION


def control(region):
    return SESSION.client("s3control", region_name=region)


def refusal(call):
    with pytest.raises(ClientError) as excinfo:
        call()
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], excinfo.value.response["Error"]


def test_moto_still_serves_the_control_plane_in_every_region(mrap, monkeypatch):
    """If this fails, moto refuses other Regions itself: drop strict.mrap_api_regions."""
    from moto.s3control.responses import S3ControlResponse

    monkeypatch.setattr(S3ControlResponse, "call_action", moto_patches.ORIGINALS["strict_s3control_call_action"])
    assert control("eu-central-1").get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap)["AccessPoint"]


def test_corrected_control_plane_is_served_in_us_west_2_only(mrap):
    assert control(CONTROL_PLANE_REGION).get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap)["AccessPoint"]
    for region in ("eu-central-1", "us-east-1"):
        calls = [lambda: control(region).get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap),
                 lambda: control(region).list_multi_region_access_points(AccountId=ACCOUNT),
                 lambda: control(region).get_multi_region_access_point_policy(AccountId=ACCOUNT, Name=mrap),
                 lambda: control(region).put_multi_region_access_point_policy(
                     AccountId=ACCOUNT, ClientToken="t", Details={"Name": mrap, "Policy": "{}"}),
                 lambda: control(region).create_multi_region_access_point(
                     AccountId=ACCOUNT, ClientToken="t", Details={"Name": "other", "Regions": []})]
        for call in calls:
            status, error = refusal(call)
            assert (status, error["Code"]) == (301, "PermanentRedirect")
            assert "only available in the following Regions: us-west-2." in error["Message"]


def test_corrected_routes_api_is_served_in_its_five_regions_only(mrap):
    arn = control(CONTROL_PLANE_REGION).get_multi_region_access_point(
        AccountId=ACCOUNT, Name=mrap)["AccessPoint"]["Alias"]
    arn = f"arn:aws:s3::{ACCOUNT}:accesspoint/{arn}"
    for region in ROUTES_API_REGIONS:
        assert control(region).get_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=arn)["Routes"]
    for region in ("eu-central-1", "us-east-2"):
        status, error = refusal(lambda: control(region).get_multi_region_access_point_routes(
            AccountId=ACCOUNT, Mrap=arn))
        assert (status, error["Code"]) == (301, "PermanentRedirect")
        status, error = refusal(lambda: control(region).submit_multi_region_access_point_routes(
            AccountId=ACCOUNT, Mrap=arn, RouteUpdates=[{"Region": "us-east-1", "TrafficDialPercentage": 100}]))
        assert (status, error["Code"]) == (301, "PermanentRedirect")


def test_other_s3_control_operations_stay_regional(mrap):
    """Access points (and Batch Operations jobs) live in the Region they are created in: not refused."""
    assert "AccessPointList" in control("eu-central-1").list_access_points(AccountId=ACCOUNT)
