"""The emulator's S3 Batch Operations (testing/batch_operations.py): a backfill job really copies the eligible
object versions, once per token, and `mrap backfill status` / `mrap activate` read it back."""

from __future__ import annotations

import io

import boto3
import pytest

from mrap_constructs.ops import cli
from mrap_constructs.ops.client import MrapClient
from mrap_constructs.testing.emulator import LocalAws
from tests.conftest import create_bucket


@pytest.fixture(scope="module")
def aws():
    with LocalAws() as emulator:
        yield emulator


def _bucket(aws, region, name):
    s3 = aws.client("s3", region)
    create_bucket(s3, name)
    return s3


def _job(aws, token="tok", statuses=("NONE", "FAILED")):
    return dict(AccountId=aws.account, ConfirmationRequired=False, Operation={"S3ReplicateObject": {}}, Priority=10,
                RoleArn=f"arn:aws:iam::{aws.account}:role/backfill", ClientRequestToken=token,
                Description="mrap-backfill media us-east-1 initial",
                Report={"Enabled": True, "Bucket": "arn:aws:s3:::reports", "Format": "Report_CSV_20180820",
                        "Prefix": "backfill/initial", "ReportScope": "FailedTasksOnly"},
                ManifestGenerator={"S3JobManifestGenerator": {
                    "SourceBucket": "arn:aws:s3:::legacy", "EnableManifestOutput": False,
                    "Filter": {"EligibleForReplication": True, "ObjectReplicationStatuses": list(statuses)}}})


@pytest.fixture
def legacy(aws):
    aws.reset()
    src = _bucket(aws, "us-east-1", "legacy")
    dst = _bucket(aws, "eu-west-1", "filled")
    _bucket(aws, "us-east-1", "reports")
    for i in range(3):
        src.put_object(Bucket="legacy", Key=f"k{i}", Body=b"v1")
    src.put_object(Bucket="legacy", Key="k0", Body=b"v2")
    src.put_bucket_replication(Bucket="legacy", ReplicationConfiguration={
        "Role": f"arn:aws:iam::{aws.account}:role/replication",
        "Rules": [{"ID": "to-eu-west-1", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::filled"}}]})
    return src, dst


def test_job_copies_every_eligible_version_once_and_reports(aws, legacy):
    src, dst = legacy
    control = aws.client("s3control", "us-east-1")
    job_id = control.create_job(**_job(aws))["JobId"]
    assert control.create_job(**_job(aws))["JobId"] == job_id, "same token, same job"
    job = control.describe_job(AccountId=aws.account, JobId=job_id)["Job"]
    assert job["Status"] == "Complete"
    assert job["ProgressSummary"] == {"TotalNumberOfTasks": 4, "NumberOfTasksSucceeded": 4, "NumberOfTasksFailed": 0,
                                      **({"Timers": job["ProgressSummary"]["Timers"]}
                                         if "Timers" in job["ProgressSummary"] else {})}
    assert sorted(v["Key"] for v in dst.list_object_versions(Bucket="filled")["Versions"]) == ["k0", "k0", "k1", "k2"]
    assert dst.get_object(Bucket="filled", Key="k0")["Body"].read() == b"v2", "the latest stays the latest"
    assert [o["Key"] for o in src.list_objects_v2(Bucket="reports")["Contents"]] == [
        f"backfill/initial/job-{job_id}/report.json"]
    # A second backfill finds nothing left: every version is COMPLETED now.
    second = control.create_job(**_job(aws, token="tok-2"))["JobId"]
    assert control.describe_job(AccountId=aws.account, JobId=second)["Job"]["ProgressSummary"][
        "TotalNumberOfTasks"] == 0
    assert [j["Status"] for j in control.list_jobs(AccountId=aws.account)["Jobs"]] == ["Complete", "Complete"]
    assert control.list_jobs(AccountId=aws.account)["Jobs"][0]["Operation"] == "S3ReplicateObject"


def test_source_without_replication_configuration_fails_the_job(aws, legacy):
    src, _ = legacy
    src.delete_bucket_replication(Bucket="legacy")
    control = aws.client("s3control", "us-east-1")
    job = control.describe_job(AccountId=aws.account, JobId=control.create_job(**_job(aws))["JobId"])["Job"]
    assert job["Status"] == "Failed"
    assert job["FailureReasons"][0]["FailureCode"] == "ReplicationConfigurationNotFound"


def test_mrap_backfill_status_and_activate_read_the_emulated_job(aws, legacy):
    control = aws.client("s3control", "us-west-2")
    control.create_multi_region_access_point(AccountId=aws.account, ClientToken="t", Details={
        "Name": "media", "PublicAccessBlock": {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls",
                                                                 "BlockPublicPolicy", "RestrictPublicBuckets")},
        "Regions": [{"Bucket": "legacy"}, {"Bucket": "filled"}]})
    aws.client("s3control", "us-east-1").create_job(**_job(aws))
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    client = MrapClient(aws.account, session=session, endpoint_url=aws.endpoint_url, sleep=lambda _: None)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["backfill", "status", "media"], out=out, err=err, client=client) == 0, err.getvalue()
    assert "4/4" in out.getvalue() and "Complete" in out.getvalue()
    out = io.StringIO()
    assert cli.main(["activate", "media", "--region", "eu-west-1"], out=out, err=err, client=client) == 0, \
        err.getvalue()
    assert aws.state.jobs, "the job the CLI read is the emulator's"
