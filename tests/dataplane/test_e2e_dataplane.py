"""End to end: the MRAP through the HTTPS proxy (SigV4A, dials, replication), with the `mrap` fixture."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@pytest.mark.mrap(regions=THREE, client_region="eu-west-1")
def test_put_through_the_alias_reads_the_same_version_from_every_bucket(mrap):
    put = mrap.s3.put_object(Bucket=mrap.arn, Key="doc.txt", Body=b"v1")
    assert mrap.served_by(put) == "eu-west-1"
    version = mrap.wait_replicated("doc.txt")
    assert version == put["VersionId"]
    for region, bucket in mrap.buckets.items():
        got = mrap.bucket_client(region).get_object(Bucket=bucket, Key="doc.txt")
        assert (got["VersionId"], got["Body"].read()) == (version, b"v1")
        assert got["ReplicationStatus"] == ("REPLICA" if region != "eu-west-1" else "COMPLETED")


@pytest.mark.mrap(regions=THREE)
def test_pending_then_completed_through_the_alias(mrap):
    with mrap.replication_paused():  # PENDING for as long as the test needs: no race with the copy
        mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
        assert mrap.s3.head_object(Bucket=mrap.arn, Key="k")["ReplicationStatus"] == "PENDING"
    mrap.wait_replicated("k")
    mrap.dataplane.wait_idle(10)
    assert mrap.s3.head_object(Bucket=mrap.arn, Key="k")["ReplicationStatus"] == "COMPLETED"


@pytest.mark.mrap(regions=THREE)
def test_delete_marker_replicated(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="gone", Body=b"x")
    mrap.wait_replicated("gone")
    marker = mrap.s3.delete_object(Bucket=mrap.arn, Key="gone")["VersionId"]
    mrap.wait_replicated("gone", marker)
    for region, bucket in mrap.buckets.items():
        markers = mrap.bucket_client(region).list_object_versions(Bucket=bucket)["DeleteMarkers"]
        assert [m["VersionId"] for m in markers] == [marker]


@pytest.mark.mrap(regions=THREE, delete_markers=False)
def test_delete_marker_not_replicated_when_disabled(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="kept", Body=b"x")
    mrap.wait_replicated("kept")
    mrap.s3.delete_object(Bucket=mrap.arn, Key="kept")
    assert mrap.dataplane.wait_idle(10)
    for region, bucket in mrap.buckets.items():
        if region != "us-east-1":
            assert mrap.bucket_client(region).get_object(Bucket=bucket, Key="kept")["Body"].read() == b"x"


@pytest.mark.mrap(regions=THREE, client_region="us-east-1")
def test_fail_over_moves_the_next_read(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    mrap.wait_replicated("k")
    assert mrap.served_by(mrap.s3.get_object(Bucket=mrap.arn, Key="k")) == "us-east-1"
    mrap.fail_over(to="ap-southeast-2")
    assert mrap.served_by(mrap.s3.get_object(Bucket=mrap.arn, Key="k")) == "ap-southeast-2"
    mrap.fail_over(to=["us-east-1", "eu-west-1"])
    mrap.set_client_region("eu-central-1")
    assert mrap.served_by(mrap.s3.head_object(Bucket=mrap.arn, Key="k")) == "eu-west-1"


@pytest.mark.mrap(regions=THREE, client_region="us-east-1")
def test_a_404_is_not_retried_on_another_bucket(mrap):
    # Paused: the two-way rule's copy to us-east-1 cannot land before the read (it raced the 0.05 s lag before).
    with mrap.replication_paused():
        mrap.bucket_client("eu-west-1").put_object(Bucket=mrap.buckets["eu-west-1"], Key="only-eu", Body=b"x")
        with pytest.raises(ClientError) as err:
            mrap.s3.get_object(Bucket=mrap.arn, Key="only-eu")
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    assert [r.region for r in mrap.dataplane.plane.log] == ["us-east-1"]


@pytest.mark.mrap(regions=THREE, two_way=False, prefix="reports/")
def test_prefix_filtered_one_way_rule_copies_only_its_prefix(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="reports/q1", Body=b"1")
    mrap.s3.put_object(Bucket=mrap.arn, Key="tmp/scratch", Body=b"2")
    mrap.wait_replicated("reports/q1")
    assert mrap.dataplane.wait_idle(10)
    for region, bucket in mrap.buckets.items():
        keys = [o["Key"] for o in mrap.bucket_client(region).list_objects_v2(Bucket=bucket)["Contents"]]
        assert keys == (["reports/q1", "tmp/scratch"] if region == "us-east-1" else ["reports/q1"])


@pytest.mark.mrap(regions=["us-east-1", "eu-west-1"], two_way=False,
                  role_actions=("s3:GetReplicationConfiguration", "s3:ListBucket", "s3:GetObjectVersionForReplication",
                                "s3:ReplicateDelete", "s3:ReplicateTags"))
def test_role_without_replicate_object_fails_with_a_metric(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    assert mrap.dataplane.wait_idle(10)
    assert mrap.s3.head_object(Bucket=mrap.arn, Key="k")["ReplicationStatus"] == "FAILED"
    with pytest.raises(ClientError):
        mrap.bucket_client("eu-west-1").head_object(Bucket=mrap.buckets["eu-west-1"], Key="k")
    cloudwatch = mrap.dataplane.aws.client("cloudwatch", "us-east-1")
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/S3", MetricName="OperationsFailedReplication", Statistics=["Sum"], Period=60,
        StartTime="2000-01-01T00:00:00Z", EndTime="2100-01-01T00:00:00Z",
        Dimensions=[{"Name": "SourceBucket", "Value": mrap.buckets["us-east-1"]},
                    {"Name": "DestinationBucket", "Value": mrap.buckets["eu-west-1"]},
                    {"Name": "RuleId", "Value": "to-eu-west-1"}])
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 1


@pytest.mark.mrap(regions=THREE)
def test_sigv4_request_rejected(mrap):
    env = mrap.dataplane.environment()
    sigv4 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"https://{mrap.point.hostname}",
                         aws_access_key_id="testing", aws_secret_access_key="testing", verify=env["AWS_CA_BUNDLE"],
                         config=Config(proxies={"https": env["HTTPS_PROXY"]}, signature_version="s3v4",
                                       s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    # The alias host as a plain endpoint, path = key: botocore signs it with SigV4 (AWS4-HMAC-SHA256).
    sigv4.meta.events.register("before-sign.s3.GetObject", _key_only_path)
    with pytest.raises(ClientError) as err:
        sigv4.get_object(Bucket="placeholder", Key="k")
    assert err.value.response["Error"]["Code"] == "InvalidRequest"
    assert "AWS4-ECDSA-P256-SHA256" in err.value.response["Error"]["Message"]
    assert mrap.dataplane.plane.log == []


def _key_only_path(request, **_):
    request.url = request.url.replace("placeholder.", "").replace("/placeholder/", "/")


@pytest.mark.mrap(regions=THREE, client_region="ap-southeast-2")
def test_unchanged_boto3_program_through_the_exported_environment(mrap):
    program = textwrap.dedent(f"""
        import boto3
        s3 = boto3.client("s3")
        put = s3.put_object(Bucket="{mrap.arn}", Key="from-app.txt", Body=b"hello from the app")
        got = s3.get_object(Bucket="{mrap.arn}", Key="from-app.txt")
        print(put["VersionId"], got["Body"].read().decode())
        try:
            boto3.client("s3", endpoint_url="https://s3.amazonaws.com").list_buckets()
        except Exception as err:
            print("outside:", type(err).__name__)
    """)
    env = mrap.env
    env.pop("PYTHONPATH", None)
    # The emulator as AWS_ENDPOINT_URL too: MRAP requests still go through the proxy (nothing is in NO_PROXY).
    assert env["AWS_ENDPOINT_URL"] == mrap.dataplane.aws.endpoint_url and "NO_PROXY" not in env
    result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    version, text = result.stdout.splitlines()[0].split(" ", 1)
    assert text == "hello from the app"
    assert "outside: ProxyConnectionError" in result.stdout
    assert "s3.amazonaws.com:443" in mrap.dataplane.proxy.refused
    assert mrap.wait_replicated("from-app.txt") == version
    assert {r.region for r in mrap.dataplane.plane.log} == {"ap-southeast-2"}
