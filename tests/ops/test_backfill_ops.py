"""Backfill and in-sync checks on the boto3 side: the routes handler's goal-state dials and backlog check, the
client's backlog and job reading, and the `mrap backfill status` / `activate` / RPO-aware `failover` commands
(moto for S3, CloudWatch and the MRAP; Stubber for the routes API and S3 Batch Operations jobs)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from botocore.stub import ANY, Stubber

from mrap_constructs.handlers.routes import dials_to_submit, on_event
from mrap_constructs.ops import cli
from mrap_constructs.ops.client import MrapError
from tests.ops.conftest import ACCOUNT, BUCKETS, SESSION

SOURCE, TARGET = "us-east-1", "eu-west-1"


def _event(request_type, dials, old=None, **props):
    event = {"RequestType": request_type, "PhysicalResourceId": "media-routes", "ResourceProperties": {
        "AccountId": ACCOUNT, "MrapName": "media", "Dials": dials, "TimeoutSeconds": "60", **props}}
    if old is not None:
        event["OldResourceProperties"] = {"AccountId": ACCOUNT, "MrapName": "media", "Dials": old}
    return event


def _routes(dials):
    return {"Routes": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d} for r, d in dials.items()]}


def _expect_submit(stub, dials):
    stub.add_response("submit_multi_region_access_point_routes", {}, {
        "AccountId": ACCOUNT, "Mrap": ANY,
        "RouteUpdates": [{"Bucket": BUCKETS[r], "Region": r, "TrafficDialPercentage": d}
                         for r, d in sorted(dials.items())]})


@pytest.fixture
def factory(client):
    return lambda account, routes_region=None: client


@pytest.fixture
def replicated(mrap):
    """us-east-1 replicates to eu-west-1 (rule to-eu-west-1), as the replication stack applies it."""
    SESSION.client("s3", region_name=SOURCE).put_bucket_replication(Bucket=BUCKETS[SOURCE], ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
        "Rules": [{"ID": f"to-{TARGET}", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{BUCKETS[TARGET]}"}}]})
    return mrap


def _pending(operations: float, bytes_: float = 0.0, latency: float = 0.0) -> None:
    """Publish the rule's replication metrics, as S3 does in the source Region."""
    dims = [{"Name": "SourceBucket", "Value": BUCKETS[SOURCE]}, {"Name": "DestinationBucket", "Value": BUCKETS[TARGET]},
            {"Name": "RuleId", "Value": f"to-{TARGET}"}]
    now = dt.datetime.now(dt.UTC)
    SESSION.client("cloudwatch", region_name=SOURCE).put_metric_data(Namespace="AWS/S3", MetricData=[
        {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": now}
        for name, value in (("OperationsPendingReplication", operations), ("BytesPendingReplication", bytes_),
                            ("ReplicationLatency", latency))])


# --- the routes handler: goal state, initial passive, in-sync check ----------------------------------------------

def test_dials_to_submit_create_update_and_replacement():
    goal = {"us-east-1": "100", "eu-west-1": "100"}
    props = {"MrapName": "m", "Dials": goal, "InitialPassive": ["eu-west-1"]}
    assert dials_to_submit("Create", props, None) == {"eu-west-1": 0, "us-east-1": 100}
    assert dials_to_submit("Update", props, {"MrapName": "m", "Dials": goal}) == {}, "nothing changed: no submit"
    assert dials_to_submit("Update", props, {"MrapName": "m", "Dials": {**goal, "us-east-1": "0"}}) == \
        {"us-east-1": 100}, "only the changed goal"
    assert dials_to_submit("Update", props, {"MrapName": "old", "Dials": goal}) == \
        {"eu-west-1": 0, "us-east-1": 100}, "a replaced MRAP starts like a new one"


def test_create_starts_the_empty_region_passive(mrap, routes_stub, factory):
    _expect_submit(routes_stub, {"eu-west-1": 0, "us-east-1": 100})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 0, "us-east-1": 100}))
    result = on_event(_event("Create", {"us-east-1": "100", "eu-west-1": "100"}, InitialPassive=["eu-west-1"]),
                      None, factory)
    assert result["Data"] == {"ActiveRegions": "us-east-1"}


def test_redeploy_after_activation_does_not_flip_the_region_back(mrap, routes_stub, factory):
    """The operator activated eu-west-1 after the backfill; an update that changes no goal dial submits nothing."""
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 100}))
    goal = {"us-east-1": "100", "eu-west-1": "100"}
    result = on_event(_event("Update", goal, old=goal, InitialPassive=["eu-west-1"], TimeoutSeconds="120"),
                      None, factory)
    assert result["Data"] == {"ActiveRegions": "eu-west-1,us-east-1"}


def test_update_activating_a_region_that_is_behind_fails_the_deploy(replicated, routes_stub, factory):
    _pending(42, 4096, 310)
    with pytest.raises(MrapError, match=r"TargetBehind: refusing to activate: eu-west-1 is behind: 42 operations "
                                        r"\(4096 bytes\) pending replication, oldest ~310 s.*require_in_sync: false"):
        on_event(_event("Update", {"us-east-1": "0", "eu-west-1": "100"}, old={"us-east-1": "100", "eu-west-1": "0"}),
                 None, factory)


def test_update_activating_a_region_in_sync_submits(replicated, routes_stub, factory):
    _pending(0)
    _expect_submit(routes_stub, {"eu-west-1": 100, "us-east-1": 0})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 0}))
    result = on_event(_event("Update", {"us-east-1": "0", "eu-west-1": "100"},
                             old={"us-east-1": "100", "eu-west-1": "0"}), None, factory)
    assert result["Data"] == {"ActiveRegions": "eu-west-1"}


def test_update_opted_out_of_the_check_switches_anyway(replicated, routes_stub, factory):
    _pending(42)
    _expect_submit(routes_stub, {"eu-west-1": 100, "us-east-1": 0})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({"eu-west-1": 100, "us-east-1": 0}))
    on_event(_event("Update", {"us-east-1": "0", "eu-west-1": "100"}, old={"us-east-1": "100", "eu-west-1": "0"},
                    RequireInSync="false"), None, factory)


# --- the client: backlog ----------------------------------------------------------------------------------------

def test_backlog_sums_the_rules_into_the_region(replicated, client):
    _pending(3, 300, 12)
    backlog = client.backlog(client.describe("media"), TARGET)
    assert (backlog.rules, backlog.pending_operations, backlog.pending_bytes, backlog.latency_seconds) == \
        (1, 3, 300, 12)
    assert not backlog.in_sync
    assert client.backlog(client.describe("media"), SOURCE).rules == 0


def test_backlog_without_datapoints_is_in_sync(replicated, client):
    backlog = client.backlog(client.describe("media"), TARGET)
    assert backlog.in_sync and backlog.reporting == 0


def test_backlog_of_a_region_outside_the_mrap_fails(mrap, client):
    with pytest.raises(MrapError, match="InvalidRegion: ap-south-1 is not a Region of MRAP media"):
        client.backlog(client.describe("media"), "ap-south-1")


# --- jobs (Stubber: moto 5.2.5 has no S3 Batch Operations) ------------------------------------------------------

def _job(job_id, status="Complete", total=10, done=10, failed=0, region=SOURCE, created="2026-12-01T00:00:00Z"):
    return {"JobId": job_id, "Status": status, "Description": f"mrap-backfill media {region} initial",
            "Operation": {"S3ReplicateObject": {}}, "CreationTime": dt.datetime.fromisoformat(created),
            "ProgressSummary": {"TotalNumberOfTasks": total, "NumberOfTasksSucceeded": done,
                                "NumberOfTasksFailed": failed}}


@pytest.fixture
def jobs_stub(client):
    """Stubbers on s3control in each MRAP Region: ``jobs_stub(region_jobs)`` queues ListJobs and DescribeJob."""
    stubs = {region: Stubber(client.s3control(region)) for region in BUCKETS}
    for stub in stubs.values():
        stub.activate()

    def queue(jobs_by_region: dict[str, list[dict]]):
        for region in sorted(BUCKETS):
            jobs = jobs_by_region.get(region, [])
            listed = [{**{k: v for k, v in j.items() if k in ("JobId", "Status", "Description", "CreationTime",
                                                              "ProgressSummary")}, "Operation": "S3ReplicateObject"}
                      for j in jobs]
            listed.append({"JobId": "other-job-1234", "Description": "someone else's job", "Status": "Complete"})
            stubs[region].add_response("list_jobs", {"Jobs": listed}, {"AccountId": ACCOUNT})
            for job in jobs:
                stubs[region].add_response("describe_job", {"Job": job}, {"AccountId": ACCOUNT,
                                                                          "JobId": job["JobId"]})
    yield queue
    for stub in stubs.values():
        stub.deactivate()


def test_backfill_jobs_are_found_by_description_with_their_progress(replicated, client, jobs_stub):
    jobs_stub({SOURCE: [_job("job-0000000001", status="Active", total=10, done=4, failed=1)]})
    (job,) = client.backfill_jobs(client.describe("media"))
    assert (job.region, job.key, job.status, job.total, job.succeeded, job.failed) == \
        (SOURCE, "initial", "Active", 10, 4, 1)


def test_activation_problems_name_the_job_and_the_backlog(replicated, client, jobs_stub):
    _pending(5, 50, 7)
    jobs_stub({SOURCE: [_job("job-0000000001", status="Active", total=10, done=4)]})
    problems = client.activation_problems(client.describe("media"), TARGET)
    assert problems == ["backfill job job-0000000001 from us-east-1 is Active (4/10 done, 0 failed)",
                        "eu-west-1 is behind: 5 operations (50 bytes) pending replication, oldest ~7 s "
                        "(ReplicationLatency)"]


def test_activation_without_a_job_is_refused(replicated, client, jobs_stub):
    jobs_stub({})
    assert client.activation_problems(client.describe("media"), TARGET) == [
        "no backfill job replicates into eu-west-1 (sources: us-east-1)"]


# --- the CLI --------------------------------------------------------------------------------------------------------

def _run(client, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err, client=client)
    return code, out.getvalue(), err.getvalue()


def test_backfill_status_shows_jobs_and_backlog(replicated, client, jobs_stub):
    _pending(2, 20, 3)
    jobs_stub({SOURCE: [_job("job-0000000001", total=10, done=10)]})
    code, out, _ = _run(client, "backfill", "status", "media")
    assert code == 1, "a backlog remains"
    assert "job-0000000001" in out and "10/10" in out and "Complete" in out
    assert "eu-west-1 is behind: 2 operations (20 bytes)" in out


def test_backfill_status_json(replicated, client, jobs_stub):
    jobs_stub({SOURCE: [_job("job-0000000001", total=10, done=10)]})
    code, out, _ = _run(client, "--json", "backfill", "status", "media")
    payload = json.loads(out)
    assert code == 0
    assert payload["jobs"][0]["succeeded"] == 10
    assert {b["region"]: b["in_sync"] for b in payload["backlog"]} == {SOURCE: True, TARGET: True}


def test_activate_refuses_naming_what_is_missing(replicated, client, jobs_stub):
    jobs_stub({SOURCE: [_job("job-0000000001", status="Complete", total=10, done=9, failed=1)]})
    code, out, err = _run(client, "activate", "media", "--region", TARGET)
    assert code == 1
    assert "refusing to activate eu-west-1: backfill job job-0000000001 from us-east-1 is Complete " \
           "(9/10 done, 1 failed)" in err


def test_activate_sets_the_region_active_when_in_sync(replicated, client, jobs_stub, routes_stub):
    jobs_stub({SOURCE: [_job("job-0000000001")]})
    _expect_submit(routes_stub, {TARGET: 100})
    code, out, err = _run(client, "activate", "media", "--region", TARGET)
    assert code == 0, err
    assert "eu-west-1=100" in out


def test_activate_force_skips_the_checks(replicated, client, routes_stub):
    _expect_submit(routes_stub, {TARGET: 100})
    code, out, _ = _run(client, "activate", "media", "--region", TARGET, "--force")
    assert code == 0


def test_activate_waits_until_the_job_completes(replicated, client, jobs_stub, routes_stub, clock):
    jobs_stub({SOURCE: [_job("job-0000000001", status="Active", done=5)]})
    jobs_stub({SOURCE: [_job("job-0000000001")]})
    _expect_submit(routes_stub, {TARGET: 100})
    routes_stub.add_response("get_multi_region_access_point_routes", _routes({TARGET: 100, SOURCE: 100}))
    code, out, err = _run(client, "activate", "media", "--region", TARGET, "--wait", "--interval", "30")
    assert code == 0, err
    assert clock.sleeps == [30]


def test_activate_fails_for_a_region_outside_the_mrap(mrap, client):
    code, _, err = _run(client, "activate", "media", "--region", "ap-south-1")
    assert code == 1 and "ap-south-1 is not a Region of MRAP media" in err


def test_activate_fails_for_an_unknown_region(mrap, client):
    code, _, err = _run(client, "activate", "media", "--region", "us-east-9")
    assert code == 1 and "us-east-9 is not an AWS Region with MRAP support (did you mean" in err


def test_failover_refuses_while_the_target_is_behind(replicated, client):
    _pending(42, 4096, 310)
    code, out, err = _run(client, "failover", "media", "--to", TARGET)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == ["error: TargetBehind: refusing to fail over to eu-west-1: eu-west-1 is behind: 42 operations "
                     "(4096 bytes) pending replication, oldest ~310 s (ReplicationLatency); --force to switch anyway"]


def test_failover_refusal_in_json_carries_the_backlog(replicated, client):
    _pending(42, 4096, 310)
    code, out, _ = _run(client, "--json", "failover", "media", "--to", TARGET)
    assert code == 1
    payload = json.loads(out)
    assert payload["refused"] is True
    assert payload["backlog"][0] | {} == {"region": TARGET, "in_sync": False, "unknown": [], "rules": 1,
                                          "rules_reporting": 1,
                                          "pending_operations": 42.0, "pending_bytes": 4096.0,
                                          "failed_operations": 0.0, "latency_seconds": 310.0}


def test_failover_force_switches_despite_the_backlog(replicated, client, routes_stub):
    _pending(42)
    _expect_submit(routes_stub, {TARGET: 100, SOURCE: 0})
    code, _, err = _run(client, "failover", "media", "--to", TARGET, "--force")
    assert code == 0, err


def test_failover_in_sync_switches(replicated, client, routes_stub):
    _pending(0)
    _expect_submit(routes_stub, {TARGET: 100, SOURCE: 0})
    code, out, err = _run(client, "--json", "failover", "media", "--to", TARGET)
    assert code == 0, err
    assert json.loads(out)["backlog"][0]["in_sync"] is True
