"""The Custom::MrapRoutes handler against moto (MRAP) and Stubber (routes API)."""

from __future__ import annotations

import pytest
from botocore.stub import ANY

from mrap_constructs.handlers.routes import on_event
from mrap_constructs.ops.client import MrapError
from tests.ops.conftest import ACCOUNT, BUCKETS


def _event(request_type: str, dials: dict[str, str], **extra) -> dict:
    return {"RequestType": request_type, "ResourceProperties": {
        "AccountId": ACCOUNT, "MrapName": "media", "Dials": dials, "TimeoutSeconds": "60", **extra}, **extra.get(
        "event", {})}


def _routes(dials):
    return {"Routes": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d} for r, d in dials.items()]}


@pytest.fixture
def factory(client):
    """Hand the handler the test's client (moto + Stubber, fake clock)."""
    return lambda account, routes_region=None: client


def _expect_submit(stub, dials):
    stub.add_response("submit_multi_region_access_point_routes", {}, {
        "AccountId": ACCOUNT, "Mrap": ANY,
        "RouteUpdates": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d}
                         for r, d in sorted(dials.items())]})


def test_create_submits_dials_and_waits_until_applied(mrap, routes_stub, factory, clock):
    _expect_submit(routes_stub, {"eu-west-1": 0, "us-east-1": 100})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 0, "us-east-1": 100}))
    result = on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)
    assert result == {"PhysicalResourceId": "media-routes", "Data": {"ActiveRegions": "us-east-1"}}
    assert clock.sleeps == [10]


def test_update_keeps_the_physical_id(mrap, routes_stub, factory):
    _expect_submit(routes_stub, {"eu-west-1": 100, "us-east-1": 0})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 0}))
    event = _event("Update", {"us-east-1": "0", "eu-west-1": "100"})
    event["PhysicalResourceId"] = "media-routes"
    assert on_event(event, None, factory)["PhysicalResourceId"] == "media-routes"


def test_delete_reverts_every_region_to_active(mrap, routes_stub, factory):
    _expect_submit(routes_stub, {"eu-west-1": 100, "us-east-1": 100})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    result = on_event(_event("Delete", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)
    assert result["Data"] == {"ActiveRegions": "eu-west-1,us-east-1"}


def test_delete_after_the_mrap_is_gone_succeeds(aws, client, factory):
    assert on_event(_event("Delete", {"us-east-1": "100"}), None, factory) == {"PhysicalResourceId": "media-routes"}


def test_create_fails_with_the_aws_error(mrap, routes_stub, factory):
    routes_stub.add_client_error("submit_multi_region_access_point_routes", "AccessDenied", "not allowed", 403)
    with pytest.raises(MrapError, match="AccessDenied: not allowed"):
        on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)


def test_create_times_out_when_routes_never_apply(mrap, routes_stub, factory):
    _expect_submit(routes_stub, {"eu-west-1": 0, "us-east-1": 100})
    for _ in range(7):
        routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    with pytest.raises(MrapError, match="Timeout: routes still"):
        on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)


def test_create_for_a_missing_mrap_fails(aws, factory):
    with pytest.raises(MrapError, match="NoSuchMultiRegionAccessPoint"):
        on_event(_event("Create", {"us-east-1": "100"}), None, factory)


class _LambdaContext:
    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


def test_conflict_retries_and_the_wait_share_one_budget(mrap, routes_stub, factory, clock):
    """Retries while another routes update is in flight count against ``TimeoutSeconds``: once the budget is spent the
    handler fails with a Timeout CloudFormation can report, instead of retrying (~255 s) and then waiting the whole
    timeout again, past the function's own limit."""
    for _ in range(4):
        routes_stub.add_client_error("submit_multi_region_access_point_routes", "ConflictException", "in flight", 409)
    with pytest.raises(MrapError, match=r"Timeout: routes of media not submitted: still ConflictException after 4 "
                                        r"attempts, and the time budget is spent"):
        on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)
    assert sum(clock.sleeps) <= 60 and clock.sleeps == [5, 10, 20]


def test_budget_is_cut_to_the_functions_remaining_time():
    from mrap_constructs.handlers.routes import SAFETY_MARGIN_SECONDS, time_budget

    assert time_budget(600, None) == 600
    assert time_budget(600, _LambdaContext(720)) == 600
    assert time_budget(600, _LambdaContext(200)) == 200 - SAFETY_MARGIN_SECONDS
    assert time_budget(600, _LambdaContext(10)) == 0


def test_wait_gets_what_the_retries_left(mrap, routes_stub, factory, clock):
    routes_stub.add_client_error("submit_multi_region_access_point_routes", "ConflictException", "in flight", 409)
    _expect_submit(routes_stub, {"eu-west-1": 0, "us-east-1": 100})
    for _ in range(6):
        routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    with pytest.raises(MrapError, match=r"Timeout: routes still .* after 55s"):
        on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "0"}), None, factory)
    assert sum(clock.sleeps) <= 60
