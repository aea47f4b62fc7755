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
from tests.ops.conftest import ACCOUNT, SESSION


def control(region):
    return SESSION.client("s3control", region_name=region)


def refusal(call):
    with pytest.raises(ClientError) as excinfo:
        call()
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], excinfo.value.response["Error"]


def test_moto_still_serves_the_control_plane_in_every_region(mrap, monkeypatch, moto_patched):
    """If this fails, moto refuses other Regions itself: drop strict.mrap_api_regions."""
    from moto.s3control.responses import S3ControlResponse

    monkeypatch.setattr(S3ControlResponse, "call_action", moto_patched["strict_s3control_call_action"])
    assert control("eu-central-1").get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap)["AccessPoint"]


def test_corrected_control_plane_is_served_in_us_west_2(mrap):
    assert control(CONTROL_PLANE_REGION).get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap)["AccessPoint"]


@pytest.mark.parametrize("region", ["eu-central-1", "us-east-1"])
def test_corrected_control_plane_is_refused_in_other_regions(mrap, region):
    other = control(region)
    calls = [lambda: other.get_multi_region_access_point(AccountId=ACCOUNT, Name=mrap),
             lambda: other.list_multi_region_access_points(AccountId=ACCOUNT),
             lambda: other.get_multi_region_access_point_policy(AccountId=ACCOUNT, Name=mrap),
             lambda: other.put_multi_region_access_point_policy(
                 AccountId=ACCOUNT, ClientToken="t", Details={"Name": mrap, "Policy": "{}"}),
             lambda: other.create_multi_region_access_point(
                 AccountId=ACCOUNT, ClientToken="t", Details={"Name": "other", "Regions": []})]
    for call in calls:
        status, error = refusal(call)
        assert (status, error["Code"]) == (301, "PermanentRedirect")
        assert "only available in the following Regions: us-west-2." in error["Message"]


def _arn(mrap):
    alias = control(CONTROL_PLANE_REGION).get_multi_region_access_point(
        AccountId=ACCOUNT, Name=mrap)["AccessPoint"]["Alias"]
    return f"arn:aws:s3::{ACCOUNT}:accesspoint/{alias}"


@pytest.mark.parametrize("region", ROUTES_API_REGIONS)
def test_corrected_routes_api_is_served_in_its_five_regions(mrap, region):
    assert control(region).get_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=_arn(mrap))["Routes"]


@pytest.mark.parametrize("region", ["eu-central-1", "us-east-2"])
def test_corrected_routes_api_is_refused_in_other_regions(mrap, region):
    other, arn = control(region), _arn(mrap)
    status, error = refusal(lambda: other.get_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=arn))
    assert (status, error["Code"]) == (301, "PermanentRedirect")
    status, error = refusal(lambda: other.submit_multi_region_access_point_routes(
        AccountId=ACCOUNT, Mrap=arn, RouteUpdates=[{"Region": "us-east-1", "TrafficDialPercentage": 100}]))
    assert (status, error["Code"]) == (301, "PermanentRedirect")


def test_other_s3_control_operations_stay_regional(mrap):
    """Access points (and Batch Operations jobs) live in the Region they are created in: not refused."""
    assert "AccessPointList" in control("eu-central-1").list_access_points(AccountId=ACCOUNT)
