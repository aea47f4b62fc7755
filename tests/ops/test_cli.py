"""The `mrap` CLI against moto (control plane, buckets) and Stubber (routes), including error paths."""

from __future__ import annotations

import functools
import io
import json

import pytest
from botocore.stub import ANY

from mrap_constructs.ops import cli
from mrap_constructs.ops.smoke import SMOKE_PREFIX, smoke
from tests.ops.conftest import ACCOUNT, BUCKETS, SESSION


def run(client, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err, client=client)
    return code, out.getvalue(), err.getvalue()


def _routes(dials):
    return {"Routes": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d} for r, d in dials.items()]}


def test_status_human(client, mrap, routes_stub):
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 0, "us-east-1": 100}))
    code, out, err = run(client, "status", "media")
    assert code == 0, err
    info = client.describe("media")
    assert f"Alias     {info.alias}" in out
    assert f"Hostname  {info.alias}.accesspoint.s3-global.amazonaws.com" in out
    assert "Policy    no policy" in out
    assert f"us-east-1       {BUCKETS['us-east-1']:<46}  100  Enabled    none" in out
    assert f"eu-west-1       {BUCKETS['eu-west-1']:<46}    0  Enabled    none" in out


def test_status_json_shows_replication_rules(client, mrap, routes_stub):
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    SESSION.client("s3", region_name="us-east-1").put_bucket_replication(Bucket=BUCKETS["us-east-1"],
        ReplicationConfiguration={"Role": f"arn:aws:iam::{ACCOUNT}:role/r", "Rules": [{
            "ID": "to-eu-west-1", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{BUCKETS['eu-west-1']}"}}]})
    code, out, _ = run(client, "--json", "status", "media")
    payload = json.loads(out)
    assert code == 0 and payload["name"] == "media" and payload["routes_error"] is None
    us = next(b for b in payload["buckets"] if b["region"] == "us-east-1")
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    assert "100  Enabled    1 rules -> eu-west-1" in run(client, "status", "media")[1]
    assert us["replication_rules"] == [{"id": "to-eu-west-1", "status": "Enabled",
                                        "destination": f"arn:aws:s3:::{BUCKETS['eu-west-1']}"}]


def test_status_reports_routes_unavailable_and_unversioned_bucket(client, mrap, routes_stub):
    routes_stub.add_client_error("get_multi_region_access_point_routes", "AccessDenied", "no routes for you", 403)
    SESSION.client("s3", region_name="eu-west-1").put_bucket_versioning(
        Bucket=BUCKETS["eu-west-1"], VersioningConfiguration={"Status": "Suspended"})
    code, out, _ = run(client, "status", "media")
    assert code == 1
    assert "Routes    unavailable (AccessDenied: no routes for you)" in out
    assert "warning: versioning is not enabled in eu-west-1" in out


def test_status_of_a_missing_mrap_is_one_line_with_the_aws_code(client, aws):
    code, out, err = run(client, "status", "nope")
    assert code == 1 and out == ""
    assert err.startswith("error: NoSuchMultiRegionAccessPoint: ") and err.count("\n") == 1


def test_routes(client, mrap, routes_stub):
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 0, "us-east-1": 100}))
    code, out, _ = run(client, "routes", "media")
    assert code == 0
    assert out.splitlines()[1:] == [f"eu-west-1       {BUCKETS['eu-west-1']:<46}    0  passive",
                                    f"us-east-1       {BUCKETS['us-east-1']:<46}  100  active"]


def test_failover_to_a_region_waits_until_applied(client, mrap, routes_stub):
    routes_stub.add_response("submit_multi_region_access_point_routes", {}, {
        "AccountId": ACCOUNT, "Mrap": ANY, "RouteUpdates": [
            {"Bucket": BUCKETS["eu-west-1"], "Region": "eu-west-1", "TrafficDialPercentage": 100},
            {"Bucket": BUCKETS["us-east-1"], "Region": "us-east-1", "TrafficDialPercentage": 0}]})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 0}))
    code, out, _ = run(client, "--json", "failover", "media", "--to", "eu-west-1", "--wait")
    assert code == 0
    assert json.loads(out)["submitted"] == {"eu-west-1": 100, "us-east-1": 0}


def test_failover_active_active_without_wait(client, mrap, routes_stub):
    routes_stub.add_response("submit_multi_region_access_point_routes", {})
    code, out, _ = run(client, "failover", "media", "--active", "eu-west-1,us-east-1")
    assert code == 0 and out.startswith("submitted: eu-west-1=100, us-east-1=100")


def test_failover_refuses_a_region_outside_the_mrap(client, mrap):
    code, _, err = run(client, "failover", "media", "--to", "ap-south-1")
    assert code == 1
    assert err.startswith("error: InvalidRegion: ap-south-1 is not a Region of MRAP media")


def test_failover_conflict_is_retried_then_reported(client, mrap, routes_stub, clock):
    for _ in range(8):
        routes_stub.add_client_error("submit_multi_region_access_point_routes", "ConflictException", "in flight", 409)
    code, _, err = run(client, "failover", "media", "--to", "us-east-1")
    assert code == 1 and err == "error: ConflictException: in flight\n"
    assert len(clock.sleeps) == 7


def test_failover_timeout(client, mrap, routes_stub):
    routes_stub.add_response("submit_multi_region_access_point_routes", {})
    for _ in range(2):
        routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    code, _, err = run(client, "failover", "media", "--to", "us-east-1", "--wait", "--timeout", "10")
    assert code == 1 and err.startswith("error: Timeout: routes still")


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as exit_:
        cli.main(["failover", "media"], out=io.StringIO(), err=io.StringIO())
    assert exit_.value.code == 2


def test_missing_profile_is_one_line(aws):
    err = io.StringIO()
    assert cli.main(["--profile", "nope", "status", "media"], out=io.StringIO(), err=err) == 1
    assert err.getvalue().startswith("error: ProfileNotFound: ")


class Replicator:
    """A fake clock whose sleep 'replicates' the smoke object to the other buckets (moto does not replicate)."""

    def __init__(self, clock, source_bucket):
        self.clock, self.source = clock, source_bucket

    def sleep(self, seconds):
        self.clock.sleep(seconds)
        s3 = SESSION.client("s3", region_name="us-east-1")
        for item in s3.list_objects_v2(Bucket=self.source, Prefix=SMOKE_PREFIX).get("Contents", []):
            body = s3.get_object(Bucket=self.source, Key=item["Key"])["Body"].read()
            for bucket in BUCKETS.values():
                if bucket != self.source:
                    SESSION.client("s3", region_name="us-east-1").put_object(Bucket=bucket, Key=item["Key"], Body=body)


def test_smoke_measures_lag_and_cleans_every_version(client, mrap, clock, monkeypatch):
    source = BUCKETS["us-east-1"]
    client.sleep = Replicator(clock, source).sleep
    result = smoke(client, client.describe("media"), via=source, interval=5)
    assert result.read_back and result.ok and result.cleaned_up
    assert result.lag_seconds == {"us-east-1": 0.0, "eu-west-1": 5.0}
    for region, bucket in BUCKETS.items():
        versions = SESSION.client("s3", region_name=region).list_object_versions(Bucket=bucket, Prefix=SMOKE_PREFIX)
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")


def test_smoke_cli_reports_a_region_that_never_received_the_object(client, mrap, monkeypatch):
    monkeypatch.setattr(cli, "smoke", functools.partial(smoke, via=BUCKETS["us-east-1"]))
    code, out, _ = run(client, "smoke", "media", "--timeout", "20")
    assert code == 1
    assert "eu-west-1       not arrived" in out and "us-east-1       0.0 s" in out and "cleaned up: yes" in out


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:4566", "http://localhost:5000"])
def test_fails_smoke_against_the_emulator_in_one_line(endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    # Data-plane lines whose proxy does not answer (nothing listens on port 9): still the plain refusal.
    (tmp_path / "ca.pem").write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://us-east-1@127.0.0.1:9")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    out, err = io.StringIO(), io.StringIO()
    # --account: no STS call either; nothing is sent before the refusal (no server listens on these ports).
    code = cli.main(["--account", ACCOUNT, "smoke", "media"], out=out, err=err)
    assert code == 1 and out.getvalue() == ""
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith("error: NeedsGlobalEndpoint: smoke needs the real global endpoint (SigV4A through "
                                     "*.accesspoint.s3-global.amazonaws.com)")
