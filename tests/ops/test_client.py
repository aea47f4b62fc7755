"""MrapClient against moto (control plane, buckets) and Stubber (routes): behaviour and error paths."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY

from mrap_constructs.ops.client import MrapClient, MrapError, failover_dials, strip_account_host_prefix
from tests.ops.conftest import ACCOUNT, BUCKETS, REGIONS, SESSION


def _routes(dials: dict[str, int]) -> dict:
    return {"Routes": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d} for r, d in dials.items()]}


def _mrap_arn(client, name="media"):
    return client.describe(name).arn


def test_describe_returns_alias_arn_hostname_and_buckets(client, mrap):
    info = client.describe(mrap)
    assert info.alias.endswith(".mrap")
    assert info.arn == f"arn:aws:s3::{ACCOUNT}:accesspoint/{info.alias}"
    assert info.hostname == f"{info.alias}.accesspoint.s3-global.amazonaws.com"
    assert sorted(info.buckets.values()) == sorted(BUCKETS.values())
    assert info.status == "READY" and info.public_access_block["BlockPublicPolicy"] is True


def test_describe_missing_mrap_raises_with_aws_code(client, aws):
    with pytest.raises(MrapError) as err:
        client.describe("nope")
    assert err.value.code == "NoSuchMultiRegionAccessPoint"
    assert str(err.value).startswith("NoSuchMultiRegionAccessPoint: ")


def test_policy_status_without_and_with_policy(client, mrap):
    assert client.policy_status(mrap) == {"established": None, "is_public": None}
    control = SESSION.client("s3control", region_name="us-west-2")
    control.put_multi_region_access_point_policy(AccountId=ACCOUNT, ClientToken="p", Details={
        "Name": mrap, "Policy": '{"Version":"2012-10-17","Statement":[]}'})
    assert client.policy_status(mrap)["established"] is True


def test_wait_for_operation_succeeds(client, aws):
    control = SESSION.client("s3control", region_name="us-west-2")
    token = control.create_multi_region_access_point(AccountId=ACCOUNT, ClientToken="x", Details={
        "Name": "other", "Regions": []})["RequestTokenARN"]
    assert client.wait_for_operation(token)["RequestStatus"] == "SUCCEEDED"


def _stub_operation(stubber, status, **details):
    stubber.add_response("describe_multi_region_access_point_operation", {"AsyncOperation": {
        "RequestStatus": status, "ResponseDetails": details}}, {"AccountId": ACCOUNT, "RequestTokenARN": "tok"})


def test_wait_for_operation_backs_off_then_fails_with_aws_error(clock):
    from botocore.stub import Stubber

    client = MrapClient(ACCOUNT, session=boto3.Session(region_name="us-west-2", aws_access_key_id="a",
                                                       aws_secret_access_key="b"), sleep=clock.sleep, clock=clock)
    with Stubber(client.control()) as stubber:
        _stub_operation(stubber, "INPROGRESS")
        _stub_operation(stubber, "INPROGRESS")
        _stub_operation(stubber, "FAILED", ErrorDetails={"Code": "BucketNotFound", "Message": "no bucket x"})
        with pytest.raises(MrapError, match="BucketNotFound: no bucket x"):
            client.wait_for_operation("tok", interval=5)
    assert clock.sleeps == [5, 10]


def test_wait_for_operation_times_out(clock):
    from botocore.stub import Stubber

    client = MrapClient(ACCOUNT, session=boto3.Session(region_name="us-west-2", aws_access_key_id="a",
                                                       aws_secret_access_key="b"), sleep=clock.sleep, clock=clock)
    with Stubber(client.control()) as stubber:
        for _ in range(4):
            _stub_operation(stubber, "INPROGRESS")
        with pytest.raises(MrapError, match="Timeout: operation tok still INPROGRESS after 30s"):
            client.wait_for_operation("tok", timeout=30, interval=10, max_interval=10)


def test_routes_sorted_by_region(client, mrap, routes_stub):
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"us-east-1": 100, "eu-west-1": 0}),
                             {"AccountId": ACCOUNT, "Mrap": ANY})
    routes = client.routes(client.describe(mrap))
    assert [(r.region, r.dial, r.active) for r in routes] == [("eu-west-1", 0, False), ("us-east-1", 100, True)]


def test_routes_calls_a_region_that_serves_the_routes_api(client, mrap):
    assert client.routes_client(["eu-west-1", "ap-south-1"]).meta.region_name == "eu-west-1"
    assert client.routes_client(["ap-south-1"]).meta.region_name == "us-west-2"
    assert client.control().meta.region_name == "us-west-2"


def test_submit_retries_on_conflict_then_succeeds(client, mrap, routes_stub, clock):
    info = client.describe(mrap)
    expected = {"AccountId": ACCOUNT, "Mrap": info.arn, "RouteUpdates": [
        {"Bucket": BUCKETS["eu-west-1"], "Region": "eu-west-1", "TrafficDialPercentage": 0},
        {"Bucket": BUCKETS["us-east-1"], "Region": "us-east-1", "TrafficDialPercentage": 100}]}
    routes_stub.add_client_error("submit_multi_region_access_point_routes", "ConflictException",
                                 "another update is in progress", 409, expected_params=expected)
    routes_stub.add_response("submit_multi_region_access_point_routes", {}, expected)
    client.submit_routes(info, {"us-east-1": 100, "eu-west-1": 0})
    assert clock.sleeps == [5]


def test_submit_raises_access_denied_at_once(client, mrap, routes_stub, clock):
    routes_stub.add_client_error("submit_multi_region_access_point_routes", "AccessDenied", "denied", 403)
    with pytest.raises(MrapError, match="AccessDenied: denied"):
        client.submit_routes(client.describe(mrap), {"us-east-1": 100})
    assert clock.sleeps == []


def test_submit_refuses_unknown_region_and_bad_dial(client, mrap):
    info = client.describe(mrap)
    with pytest.raises(MrapError, match=r"InvalidRegion: ap-south-1 not in MRAP media"):
        client.submit_routes(info, {"ap-south-1": 100})
    with pytest.raises(MrapError, match=r"InvalidDial: dials must be 0 \(passive\) or 100"):
        client.submit_routes(info, {"us-east-1": 50})


def test_wait_for_routes_polls_until_applied(client, mrap, routes_stub, clock):
    info = client.describe(mrap)
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"us-east-1": 100, "eu-west-1": 100}))
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"us-east-1": 100, "eu-west-1": 0}))
    routes = client.wait_for_routes(info, {"eu-west-1": 0}, interval=10)
    assert {r.region: r.dial for r in routes} == {"us-east-1": 100, "eu-west-1": 0}
    assert clock.sleeps == [10]


def test_wait_for_routes_times_out(client, mrap, routes_stub):
    info = client.describe(mrap)
    for _ in range(3):
        routes_stub.add_response("get_multi_region_access_point_routes", _routes({"us-east-1": 100, "eu-west-1": 100}))
    with pytest.raises(MrapError, match=r"Timeout: routes still .* after 20s"):
        client.wait_for_routes(info, {"eu-west-1": 0}, timeout=20, interval=10)


def test_replication_and_versioning(client, mrap):
    assert client.replication("us-east-1", BUCKETS["us-east-1"]) is None
    assert client.versioning("us-east-1", BUCKETS["us-east-1"]) == "Enabled"
    SESSION.client("s3", region_name="us-east-1").put_bucket_replication(Bucket=BUCKETS["us-east-1"],
        ReplicationConfiguration={"Role": f"arn:aws:iam::{ACCOUNT}:role/r", "Rules": [{
            "ID": "to-eu-west-1", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{BUCKETS['eu-west-1']}"}}]})
    assert client.replication("us-east-1", BUCKETS["us-east-1"])["Rules"][0]["ID"] == "to-eu-west-1"


def test_account_defaults_to_the_caller(aws):
    assert MrapClient().account == ACCOUNT


def test_invalid_routes_region_is_refused(aws):
    with pytest.raises(MrapError, match="InvalidRegion: routes API is served only in"):
        MrapClient(ACCOUNT, routes_region="ap-south-1")


def test_failover_dials():
    assert failover_dials(REGIONS, ["us-east-1"]) == {"eu-west-1": 0, "us-east-1": 100}


def test_strip_account_host_prefix():
    class Request:
        url = "http://123456789012.localhost:5000/v20180820/mrap/instances/media"

    request = Request()
    strip_account_host_prefix(request)
    assert request.url == "http://localhost:5000/v20180820/mrap/instances/media"
    request.url = "http://127.0.0.1:5000/x"
    strip_account_host_prefix(request)
    assert request.url == "http://127.0.0.1:5000/x"
