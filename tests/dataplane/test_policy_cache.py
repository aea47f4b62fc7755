"""The data plane's caches never serve a stale decision: a policy, role or MRAP change takes effect on the next
request (``policy_cache``, ``DataPlane._mrap_point`` / ``_bucket`` / ``_caller``), and replication metrics put in
batches keep every statistic exact (``replication_metrics.MetricBuffer``).

AWS: a request through an MRAP must be allowed by the MRAP policy and the bucket policy (S3 User Guide, "Multi-Region
Access Point permissions", https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html);
S3 evaluates the policies in force when the request arrives. Replication metrics: S3 User Guide, "Amazon S3
replication metrics" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html); statistic sets:
CloudWatch User Guide, "Publish statistic sets"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html#publishingDataPoints1).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from mrap_constructs.testing.dataplane.policy_cache import PolicyCache
from mrap_constructs.testing.dataplane.replication_metrics import MetricBuffer
from tests.dataplane.conftest import ACCOUNT

TWO = ["us-east-1", "eu-west-1"]


def _mrap_policy(mrap, effect: str) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": f"{mrap.arn}/object/*"}]}
    mrap.dataplane.aws.client("s3control", "us-west-2").put_multi_region_access_point_policy(
        AccountId=mrap.dataplane.aws.account, ClientToken=effect,
        Details={"Name": mrap.point.name, "Policy": json.dumps(policy)})


def _status(call) -> int:
    try:
        return call()["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as err:
        return err.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.e2e
@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_a_policy_change_takes_effect_on_the_next_request(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    get = lambda: mrap.s3.get_object(Bucket=mrap.arn, Key="k")  # noqa: E731
    _mrap_policy(mrap, "Allow")
    assert _status(get) == 200 and _status(get) == 200  # the second read is served from warm caches
    _mrap_policy(mrap, "Deny")
    assert _status(get) == 403
    _mrap_policy(mrap, "Allow")
    assert _status(get) == 200
    bucket = mrap.buckets["us-east-1"]
    mrap.bucket_client("us-east-1").put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                                                "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert _status(get) == 403
    mrap.bucket_client("us-east-1").delete_bucket_policy(Bucket=bucket)
    assert _status(get) == 200


@pytest.mark.e2e
@pytest.mark.mrap(regions=TWO, client_region="us-east-1", two_way=False)
def test_a_role_policy_change_takes_effect_on_the_next_replication(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="before", Body=b"x")
    assert mrap.dataplane.wait_idle(10)
    assert mrap.s3.head_object(Bucket=mrap.arn, Key="before")["ReplicationStatus"] == "COMPLETED"
    iam = mrap.dataplane.aws.client("iam")
    role = next(r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].endswith("-replication"))
    iam.put_role_policy(RoleName=role, PolicyName="deny", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:ReplicateObject", "Resource": "*"}]}))
    mrap.s3.put_object(Bucket=mrap.arn, Key="after", Body=b"x")
    assert mrap.dataplane.wait_idle(10)
    assert mrap.s3.head_object(Bucket=mrap.arn, Key="after")["ReplicationStatus"] == "FAILED"


@pytest.mark.e2e
@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_a_deleted_mrap_is_not_served_from_the_cache(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    control = mrap.dataplane.aws.client("s3control", "us-west-2")
    control.delete_multi_region_access_point(AccountId=mrap.dataplane.aws.account, ClientToken="gone",
                                             Details={"Name": mrap.point.name})
    with pytest.raises(ClientError) as err:
        mrap.s3.get_object(Bucket=mrap.arn, Key="k")
    assert err.value.response["Error"]["Code"] == "NoSuchAccessPoint"


def test_policy_cache_parses_each_text_once_and_a_new_text_anew():
    cache = PolicyCache(size=2)
    allow, deny = '{"Statement": [{"Effect": "Allow"}]}', '{"Statement": [{"Effect": "Deny"}]}'
    assert cache.document(allow) is cache.document(allow)
    assert cache.document(deny)["Statement"][0]["Effect"] == "Deny"
    assert cache.document("not json") is None and cache.document({"a": 1}) == {"a": 1}
    assert len(cache) <= 2  # bounded: starts over when full


def test_metric_buffer_keeps_every_statistic_exact(engine):
    boto3.client("s3", region_name="us-east-1")  # the mock is active: moto's CloudWatch is in-process
    buffer = MetricBuffer()
    for latency in (0.05, 0.2, 0.08):
        buffer.add(ACCOUNT, "us-east-1", "src", "dst", "rule", {"ReplicationLatency": (latency, "Seconds"),
                                                                 "OperationsFailedReplication": (1.0, "Count")})
    buffer.add(ACCOUNT, "us-east-1", "src", "dst", "rule", {"BytesPendingReplication": (5.0, "Bytes")})
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    dims = [{"Name": "SourceBucket", "Value": "src"}, {"Name": "DestinationBucket", "Value": "dst"},
            {"Name": "RuleId", "Value": "rule"}]

    def stats(name: str) -> list[dict]:
        return cloudwatch.get_metric_statistics(
            Namespace="AWS/S3", MetricName=name, Dimensions=dims, Period=60, StartTime="2000-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z", Statistics=["Sum", "Maximum", "Minimum", "SampleCount"])["Datapoints"]

    assert stats("ReplicationLatency") == [] and buffer.due() is not None  # buffered, not yet put
    buffer.flush()
    assert buffer.due() is None
    [latency] = stats("ReplicationLatency")
    assert (latency["SampleCount"], latency["Maximum"], latency["Minimum"]) == (3.0, 0.2, 0.05)
    assert latency["Sum"] == pytest.approx(0.33)
    assert [(p["Sum"], p["SampleCount"]) for p in stats("OperationsFailedReplication")] == [(3.0, 3.0)]
    assert [p["Maximum"] for p in stats("BytesPendingReplication")] == [5.0]
