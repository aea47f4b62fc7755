"""Issue 28 end to end on the emulator, strictness on (cross-account reads need a grant; SSE-KMS replication needs the
keys granted, ``testing/strict/cross_account_reads.py`` and ``replication_kms.py``), live replication by the local data
plane and backfill by its Batch Operations:

* cross-account buckets with SSE-KMS and failover: an SSE-KMS object replicates into the other account under its key,
  and `mrap failover` activates a Region after its in-sync check read every account (through the reader role);
* an adopted SSE-KMS bucket with its own key (``existing_bucket_keys``): what it held is backfilled and new objects
  replicate.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time as real_time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from mrap_constructs.ops import cli
from mrap_constructs.ops import client as client_module
from mrap_constructs.testing.dataplane.session import LocalDataPlane
from mrap_constructs.testing.emulator import LocalAws
from mrap_constructs.testing.local_deploy import LocalDeployment
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

A, B, C = "100000000028", "100000000029", "100000000030"
QUIET = {"alarms": False, "dashboard": False}
CROSS = {"name": "e2e-xkms", "account": A, "regions": ["us-east-1", "eu-west-1"], "encryption": "sse-kms",
         "bucket_accounts": {"eu-west-1": B}, "failover": {"active": ["us-east-1"]}, "monitoring": QUIET}
LEGACY = "e2e-adopted-legacy"
ADOPTED = {"name": "e2e-adopted", "account": C, "regions": ["us-east-1", "eu-west-1"], "encryption": "sse-kms",
           "existing_buckets": {"us-east-1": LEGACY}, "monitoring": QUIET}


def _legacy_bucket(aws: LocalAws) -> str:
    """The user's SSE-KMS bucket with its own key, holding an object before the MRAP."""
    key = aws.client("kms", "us-east-1", C).create_key(Description="legacy")["KeyMetadata"]["Arn"]
    s3 = aws.client("s3", "us-east-1", C)
    s3.create_bucket(Bucket=LEGACY)
    s3.put_bucket_versioning(Bucket=LEGACY, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=LEGACY, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    s3.put_object(Bucket=LEGACY, Key="old.txt", Body=b"before the mrap", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=key)
    return key


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    tmp = tmp_path_factory.mktemp("xacct")
    with LocalAws() as aws, LocalDataPlane(aws, delay=0.05) as dataplane:
        aws.reset()
        key = _legacy_bucket(aws)
        configs = {"cross": CROSS, "adopted": {**ADOPTED, "existing_bucket_keys": {"us-east-1": key}}}

        def deploy(item):
            label, config = item
            path = tmp / f"{label}.json"
            path.write_text(json.dumps(config))
            deployment = LocalDeployment(aws, project=ROOT, config=str(path), out=io.StringIO(),
                                         account=config["account"], assembly_dir=tmp / f"{label}.out", concurrency=4)
            deployment.synth()
            deployment.bootstrap()
            deployment.deploy()
            return label, deployment.inspect(config["name"])

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(pool.map(deploy, configs.items()))
        yield aws, dataplane, results, key


def _kms_object(aws, region, account, bucket, key):
    head = aws.client("s3", region, account).head_object(Bucket=bucket, Key=key)
    return head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")


def test_cross_account_sse_kms_object_replicates_under_the_destination_account_key(deployed):
    aws, dataplane, results, _ = deployed
    mrap = results["cross"]
    aws.client("s3", "us-east-1", A).put_object(Bucket=mrap.buckets["us-east-1"], Key="k.txt", Body=b"secret")
    assert dataplane.engine.wait_idle(10)
    failed = [o for o in dataplane.engine.outcomes if o.status == "FAILED"]
    assert not failed, failed
    body = aws.client("s3", "eu-west-1", B).get_object(Bucket=mrap.buckets["eu-west-1"], Key="k.txt")["Body"].read()
    assert body == b"secret"
    encryption, key_id = _kms_object(aws, "eu-west-1", B, mrap.buckets["eu-west-1"], "k.txt")
    assert encryption == "aws:kms" and f":{B}:" in key_id


def test_failover_reads_every_account_then_activates(deployed, monkeypatch):
    aws, dataplane, results, _ = deployed
    mrap = results["cross"]
    assert aws.state.routes[mrap.arn] == {"us-east-1": 100, "eu-west-1": 0}
    for name, value in aws.env_for(A).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    # S3's next datapoint once the queue drained. The check reads the newest 60 s period's Maximum, so a "1 pending"
    # and a "0 pending" in one period read as behind (conservative, as on AWS). The check runs two minutes "later"
    # (its clock moved, not the test's waiting), and the drained point sits in that later period: no timing involved.
    dims = [{"Name": "SourceBucket", "Value": mrap.buckets["us-east-1"]},
            {"Name": "DestinationBucket", "Value": mrap.buckets["eu-west-1"]},
            {"Name": "RuleId", "Value": "to-eu-west-1"}]
    shift = 120
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=shift)
    monkeypatch.setattr(client_module, "time", SimpleNamespace(
        time=lambda: real_time.time() + shift, sleep=real_time.sleep, monotonic=real_time.monotonic))
    aws.client("cloudwatch", "us-east-1", A).put_metric_data(Namespace="AWS/S3", MetricData=[
        {"MetricName": name, "Dimensions": dims, "Value": 0, "Timestamp": later}
        for name in ("OperationsPendingReplication", "BytesPendingReplication")])
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--endpoint-url", aws.endpoint_url, "--json", "failover", "e2e-xkms",
                     "--active", "us-east-1,eu-west-1"], out=out, err=err)
    assert (code, err.getvalue()) == (0, ""), out.getvalue()
    facts = json.loads(out.getvalue())["backlog"]
    # the rules into us-east-1 live in account B: read through its reader role, not "unknown"
    assert {f["region"]: (f["in_sync"], f["unknown"], f["rules"]) for f in facts} == {
        "us-east-1": (True, [], 1), "eu-west-1": (True, [], 1)}
    assert aws.state.routes[mrap.arn] == {"us-east-1": 100, "eu-west-1": 100}


def test_adopted_sse_kms_bucket_is_backfilled_and_replicates(deployed):
    aws, dataplane, results, key = deployed
    mrap = results["adopted"]
    [job] = aws.client("s3control", "us-east-1", C).list_jobs(AccountId=C)["Jobs"]
    assert job["Status"] == "Complete"
    assert (job["ProgressSummary"]["NumberOfTasksSucceeded"], job["ProgressSummary"]["NumberOfTasksFailed"]) == (1, 0)
    target = mrap.buckets["eu-west-1"]
    s3 = aws.client("s3", "eu-west-1", C)
    assert s3.get_object(Bucket=target, Key="old.txt")["Body"].read() == b"before the mrap"
    aws.client("s3", "us-east-1", C).put_object(Bucket=LEGACY, Key="new.txt", Body=b"after",
                                                ServerSideEncryption="aws:kms", SSEKMSKeyId=key)
    assert dataplane.engine.wait_idle(10)
    failed = [o for o in dataplane.engine.outcomes if o.status == "FAILED" and o.source_bucket == LEGACY]
    assert not failed, failed
    assert s3.get_object(Bucket=target, Key="new.txt")["Body"].read() == b"after"
