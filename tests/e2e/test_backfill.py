"""Issue 21's walkthroughs end to end (docs/backfill.md): an MRAP adopted over a bucket that already holds data,
deployed with the real CDK CLI, backfilled by S3 Batch Replication, its new Regions passive until `mrap activate`;
then a failover refused while the target has a replication backlog and accepted once it cleared.

One app, one account (``ACCOUNT``), deployed once; the tests run in order on it. The CLI runs in-process
(``cli.main``) against the emulator with ``--endpoint-url``, acting in ``ACCOUNT``.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from mrap_constructs.ops import cli
from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import LocalDeployment
from tests.conftest import ROOT, create_bucket

pytestmark = pytest.mark.e2e

NAME = "e2e-backfill"
ACCOUNT = "100000000021"
SOURCE, NEW = "us-east-1", ["ap-southeast-2", "eu-west-1"]
LEGACY = "e2e-backfill-legacy-media"
#: What the bucket held before the MRAP: two versions of one key, and two more keys.
HISTORY = [("report.csv", b"v1"), ("report.csv", b"v2 (current)"), ("img/logo.png", b"\x89PNG"),
           ("notes/readme.txt", b"hello")]
CONFIG = {"name": NAME, "account": ACCOUNT, "regions": [SOURCE, *NEW], "existing_buckets": {SOURCE: LEGACY},
          "monitoring": {"alarms": False, "dashboard": False}}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    tmp = tmp_path_factory.mktemp("backfill")
    path = tmp / f"{NAME}.json"
    path.write_text(json.dumps(CONFIG))
    with LocalAws() as aws, pytest.MonkeyPatch.context() as env:
        aws.reset()
        s3 = aws.client("s3", SOURCE, ACCOUNT)
        create_bucket(s3, LEGACY)
        for key, body in HISTORY:
            s3.put_object(Bucket=LEGACY, Key=key, Body=body)
        deployment = LocalDeployment(aws, project=ROOT, config=str(path), out=io.StringIO(), account=ACCOUNT,
                                     assembly_dir=tmp / f"{NAME}.out", concurrency=4)
        deployment.synth()
        deployment.bootstrap()
        deployment.deploy()
        # The operator's shell: credentials of ACCOUNT (the CLI's --account defaults to STS's answer).
        for key, value in aws.env_for(ACCOUNT).items():
            if key.startswith("AWS_"):
                env.setenv(key, value)
        env.delenv("AWS_ENDPOINT_URL")  # given as --endpoint-url, as the docs show
        yield aws, deployment, deployment.inspect(NAME), path


def _mrap(aws: LocalAws, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--endpoint-url", aws.endpoint_url, *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _versions(aws: LocalAws, region: str, bucket: str) -> list[tuple[str, bytes]]:
    """Every (key, body) version of ``bucket``, oldest first per key."""
    s3 = aws.client("s3", region, ACCOUNT)
    listed = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    ordered = sorted(listed, key=lambda v: (v["Key"], v["LastModified"], v["IsLatest"]))
    return [(v["Key"], s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read())
            for v in ordered]


def _jobs(aws: LocalAws) -> list[dict]:
    return [job for region in CONFIG["regions"]
            for job in aws.client("s3control", region, ACCOUNT).list_jobs(AccountId=ACCOUNT)["Jobs"]]


def _publish_backlog(aws: LocalAws, deployed, target: str, operations: float, bytes_: float,
                     latency: float, *, ago: float = 0.0) -> None:
    """Replication metrics of every rule into ``target``, as S3 publishes them in each source Region."""
    when = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=ago)
    for region, rules in deployed.replication.items():
        for rule in rules:
            if rule["Destination"]["Bucket"] != f"arn:aws:s3:::{deployed.buckets[target]}":
                continue
            dims = [{"Name": "SourceBucket", "Value": deployed.buckets[region]},
                    {"Name": "DestinationBucket", "Value": deployed.buckets[target]},
                    {"Name": "RuleId", "Value": rule["ID"]}]
            aws.client("cloudwatch", region, ACCOUNT).put_metric_data(Namespace="AWS/S3", MetricData=[
                {"MetricName": name, "Dimensions": dims, "Value": value, "Timestamp": when}
                for name, value in (("OperationsPendingReplication", operations),
                                    ("BytesPendingReplication", bytes_), ("ReplicationLatency", latency))])


# --- adopting an MRAP over a bucket that has data -----------------------------------------------------------------


def test_new_regions_start_passive_and_the_backfill_copied_every_version(app):
    aws, _, deployed, _ = app
    assert deployed.buckets[SOURCE] == LEGACY
    assert aws.state.routes[deployed.arn] == {SOURCE: 100, **{r: 0 for r in NEW}}
    [job] = _jobs(aws)
    assert job["Operation"] == "S3ReplicateObject" and job["Status"] == "Complete"
    assert job["ProgressSummary"]["NumberOfTasksSucceeded"] == len(HISTORY)
    assert job["ProgressSummary"]["NumberOfTasksFailed"] == 0
    held = sorted(HISTORY, key=lambda kv: kv[0])  # stable: the two report.csv versions stay oldest first
    assert _versions(aws, SOURCE, LEGACY) == held, "the existing bucket is untouched"
    for region in NEW:
        assert _versions(aws, region, deployed.buckets[region]) == held, region

    code, out, err = _mrap(aws, "backfill", "status", NAME)
    assert (code, err) == (0, ""), out
    assert "Complete" in out and f"{len(HISTORY)}/{len(HISTORY)}" in out


def test_activate_makes_each_new_region_active_and_every_key_reads_there(app):
    aws, _, deployed, _ = app
    for number, region in enumerate(NEW, start=1):
        code, out, err = _mrap(aws, "activate", NAME, "--region", region, "--wait", "--timeout", "30")
        assert (code, err) == (0, ""), err
        assert "applied:" in out
        assert aws.state.routes[deployed.arn][region] == 100
        assert sum(d == 100 for d in aws.state.routes[deployed.arn].values()) == 1 + number
    current = {key: body for key, body in HISTORY}  # the last write of each key wins
    for region, bucket in deployed.buckets.items():
        s3 = aws.client("s3", region, ACCOUNT)
        for key, body in current.items():
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, (region, key)


def test_a_redeploy_starts_no_second_job_and_keeps_the_activations(app):
    """An update of the routes resource (the routes Region moves; the goal, every Region active, is the same):
    the handler submits only changed goal dials, so the `mrap activate` dials stand."""
    aws, deployment, deployed, path = app
    moved = {"active": CONFIG["regions"], "routes_region": "ap-southeast-2"}
    path.write_text(json.dumps({**CONFIG, "failover": moved}))
    handled = len(aws.state.custom_resource_log)
    deployment.deploy()
    updates = [r for r in aws.state.custom_resource_log[handled:] if r[1] == "Update"]
    assert [r for r in updates if "Routes" in r[2]], aws.state.custom_resource_log[handled:]
    assert len(_jobs(aws)) == 1
    assert aws.state.routes[deployed.arn] == {r: 100 for r in CONFIG["regions"]}


# --- failing over safely ------------------------------------------------------------------------------------------


def test_failover_is_refused_while_the_target_has_a_backlog_then_switches(app):
    aws, _, deployed, _ = app
    target = "eu-west-1"
    # S3 reported a backlog two minutes ago (its own period, so the cleared datapoint below is the newer one).
    _publish_backlog(aws, deployed, target, 12, 3400, 95, ago=120)
    code, out, err = _mrap(aws, "failover", NAME, "--to", target)
    assert code == 1 and out == ""
    assert err.startswith(f"error: TargetBehind: refusing to fail over to {target}: {target} is behind: ")
    assert "pending replication" in err and "--force" in err and err.count("\n") == 1
    code, out, _ = _mrap(aws, "--json", "failover", NAME, "--to", target)
    refused = json.loads(out)
    assert code == 1 and refused["refused"] is True
    [facts] = refused["backlog"]
    assert facts["region"] == target and facts["in_sync"] is False and facts["pending_operations"] > 0
    assert aws.state.routes[deployed.arn] == {r: 100 for r in CONFIG["regions"]}, "nothing was submitted"

    _publish_backlog(aws, deployed, target, 0, 0, 0)
    # Exit 0 with --wait means the dials were seen applied within --timeout (the CLI exits 1 on a timeout): no
    # wall-clock assert here, which a loaded machine could fail.
    code, out, err = _mrap(aws, "--json", "failover", NAME, "--to", target, "--wait", "--timeout", "30")
    assert (code, err) == (0, ""), err
    switched = json.loads(out)
    assert switched["submitted"] == {r: 100 if r == target else 0 for r in CONFIG["regions"]}
    assert [f["in_sync"] for f in switched["backlog"]] == [True]
    assert aws.state.routes[deployed.arn] == switched["submitted"]
