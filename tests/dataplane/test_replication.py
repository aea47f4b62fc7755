"""Live replication per the stored rules (in-process moto, short delay)."""

from __future__ import annotations

import boto3
import pytest

from tests.dataplane.conftest import REPLICATE, make_bucket, make_role, replicate, rule, s3


def status(bucket: str, key: str, region: str = "us-east-1", version: str | None = None) -> str | None:
    kwargs = {"VersionId": version} if version else {}
    return s3(region).head_object(Bucket=bucket, Key=key, **kwargs).get("ReplicationStatus")


@pytest.fixture
def pair(engine):
    """Two-way pair src (us-east-1) <-> dst (eu-west-1)."""
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    role = make_role()
    replicate("src-bucket", "us-east-1", role, rule("dst-bucket", metrics=True))
    replicate("dst-bucket", "eu-west-1", role, rule("src-bucket"))
    return engine


def test_pending_then_completed_with_the_same_version(pair):
    pair.paused.clear()  # PENDING until the test resumes the engine, however slow the machine (no timing)
    version = s3().put_object(Bucket="src-bucket", Key="a.txt", Body=b"hello", Metadata={"team": "x"})["VersionId"]
    assert status("src-bucket", "a.txt") == "PENDING"
    pair.paused.set()
    assert pair.wait_idle(5)
    assert status("src-bucket", "a.txt") == "COMPLETED"
    replica = s3("eu-west-1").get_object(Bucket="dst-bucket", Key="a.txt")
    assert (replica["VersionId"], replica["Body"].read(), replica["ReplicationStatus"]) == (version, b"hello",
                                                                                          "REPLICA")
    assert replica["Metadata"] == {"team": "x"}


def test_a_replica_is_not_replicated_back(pair):
    s3().put_object(Bucket="src-bucket", Key="a.txt", Body=b"hello")
    assert pair.wait_idle(5)
    versions = s3().list_object_versions(Bucket="src-bucket")["Versions"]
    assert len(versions) == 1
    assert [o.destination_bucket for o in pair.outcomes] == ["dst-bucket"]


def test_objects_written_before_the_rule_are_not_copied(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    s3().put_object(Bucket="src-bucket", Key="old.txt", Body=b"old")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket"))
    s3().put_object(Bucket="src-bucket", Key="new.txt", Body=b"new")
    assert engine.wait_idle(5)
    keys = [o["Key"] for o in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket").get("Contents", [])]
    assert keys == ["new.txt"]
    assert status("src-bucket", "old.txt") is None


def test_delete_marker_replicated_when_enabled(pair):
    s3().put_object(Bucket="src-bucket", Key="a.txt", Body=b"x")
    assert pair.wait_idle(5)
    marker = s3().delete_object(Bucket="src-bucket", Key="a.txt")["VersionId"]
    assert pair.wait_idle(5)
    markers = s3("eu-west-1").list_object_versions(Bucket="dst-bucket")["DeleteMarkers"]
    assert [m["VersionId"] for m in markers] == [marker]


def test_delete_marker_not_replicated_when_disabled(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket", delete_markers=False))
    s3().put_object(Bucket="src-bucket", Key="a.txt", Body=b"x")
    assert engine.wait_idle(5)
    s3().delete_object(Bucket="src-bucket", Key="a.txt")
    assert engine.wait_idle(5)
    assert "DeleteMarkers" not in s3("eu-west-1").list_object_versions(Bucket="dst-bucket")
    assert s3("eu-west-1").get_object(Bucket="dst-bucket", Key="a.txt")["Body"].read() == b"x"


def test_a_version_delete_is_not_replicated(pair):
    version = s3().put_object(Bucket="src-bucket", Key="a.txt", Body=b"x")["VersionId"]
    assert pair.wait_idle(5)
    s3().delete_object(Bucket="src-bucket", Key="a.txt", VersionId=version)
    assert pair.wait_idle(5)
    assert s3("eu-west-1").head_object(Bucket="dst-bucket", Key="a.txt")["VersionId"] == version


def test_prefix_filter_copies_only_its_prefix(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket", prefix="logs/"))
    s3().put_object(Bucket="src-bucket", Key="logs/1", Body=b"1")
    s3().put_object(Bucket="src-bucket", Key="data/1", Body=b"2")
    assert engine.wait_idle(5)
    keys = [o["Key"] for o in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket")["Contents"]]
    assert keys == ["logs/1"]
    assert status("src-bucket", "data/1") is None


def test_tag_filter_and_prefix(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(),
              rule("dst-bucket", prefix="p/", tags={"replicate": "yes"}, delete_markers=False))
    s3().put_object(Bucket="src-bucket", Key="p/tagged", Body=b"1", Tagging="replicate=yes&x=1")
    s3().put_object(Bucket="src-bucket", Key="p/untagged", Body=b"2")
    s3().put_object(Bucket="src-bucket", Key="q/tagged", Body=b"3", Tagging="replicate=yes")
    assert engine.wait_idle(5)
    keys = [o["Key"] for o in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket")["Contents"]]
    assert keys == ["p/tagged"]
    tags = s3("eu-west-1").get_object_tagging(Bucket="dst-bucket", Key="p/tagged")["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"replicate": "yes", "x": "1"}


def test_priority_picks_one_rule_per_destination(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(),
              rule("dst-bucket", id="low", priority=1, prefix=""),
              rule("dst-bucket", id="high", priority=5, prefix="a"))
    s3().put_object(Bucket="src-bucket", Key="abc", Body=b"1")
    s3().put_object(Bucket="src-bucket", Key="xyz", Body=b"1")
    assert engine.wait_idle(5)
    assert sorted((o.key_name, o.rule_id) for o in engine.outcomes) == [("abc", "high"), ("xyz", "low")]


def test_disabled_rule_replicates_nothing(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket", status="Disabled"))
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert engine.wait_idle(5)
    assert "Contents" not in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket")


def test_sse_kms_only_with_sse_kms_encrypted_objects(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    make_bucket("dst2-bucket", "eu-west-2")
    source_key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    replica_key = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["Arn"]
    # The role needs kms:Decrypt on the source key and kms:Encrypt on the replica key (S3 User Guide, "Replicating
    # encrypted objects", https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
    replicate("src-bucket", "us-east-1", make_role(actions=[*REPLICATE, "kms:Decrypt", "kms:Encrypt"]),
              rule("dst-bucket", id="kms", sse_kms=True, kms_key=replica_key),
              rule("dst2-bucket", id="plain", priority=2))
    s3().put_object(Bucket="src-bucket", Key="secret", Body=b"1", ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=source_key)
    assert engine.wait_idle(5)
    head = s3("eu-west-1").head_object(Bucket="dst-bucket", Key="secret")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", replica_key)
    assert "Contents" not in s3("eu-west-2").list_objects_v2(Bucket="dst2-bucket")
    assert status("src-bucket", "secret") == "COMPLETED"


def test_role_without_replicate_object_fails_and_copies_nothing(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    role = make_role(deny=["s3:ReplicateObject"])
    replicate("src-bucket", "us-east-1", role, rule("dst-bucket", metrics=True))
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert engine.wait_idle(5)
    assert status("src-bucket", "a") == "FAILED"
    assert "Contents" not in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket")
    assert "explicit deny" in engine.outcomes[0].reason
    names = {m["MetricName"] for m in boto3.client("cloudwatch", region_name="us-east-1").list_metrics(
        Namespace="AWS/S3")["Metrics"]}
    assert "OperationsFailedReplication" in names


def test_role_with_no_allow_fails(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(actions=["s3:GetObjectVersionForReplication"]), rule("dst-bucket"))
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert engine.wait_idle(5)
    assert status("src-bucket", "a") == "FAILED"


def test_metrics_published_for_rules_with_metrics(pair):
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"12345")
    assert pair.wait_idle(5)
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    metrics = [m for m in cloudwatch.list_metrics(Namespace="AWS/S3")["Metrics"] if "Replication" in m["MetricName"]]
    assert {m["MetricName"] for m in metrics} >= {"OperationsPendingReplication", "BytesPendingReplication",
                                                   "ReplicationLatency"}
    dims = {d["Name"]: d["Value"] for d in metrics[0]["Dimensions"]}
    assert dims == {"SourceBucket": "src-bucket", "DestinationBucket": "dst-bucket", "RuleId": "to-dst-bucket"}
    # The rule dst -> src has no metrics: nothing in eu-west-1.
    eu_metrics = boto3.client("cloudwatch", region_name="eu-west-1").list_metrics(Namespace="AWS/S3")["Metrics"]
    assert [m for m in eu_metrics if "Replication" in m["MetricName"]] == []


def test_replica_modifications_sync_tags_back_only_when_enabled(engine):
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    role = make_role()
    replicate("src-bucket", "us-east-1", role, rule("dst-bucket"))
    replicate("dst-bucket", "eu-west-1", role, rule("src-bucket", replica_modifications=True))
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert engine.wait_idle(5)
    s3("eu-west-1").put_object_tagging(Bucket="dst-bucket", Key="a", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert engine.wait_idle(5)
    assert s3().get_object_tagging(Bucket="src-bucket", Key="a")["TagSet"] == [{"Key": "k", "Value": "v"}]


def test_replica_modifications_off_keeps_source_tags(pair):
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert pair.wait_idle(5)
    s3("eu-west-1").put_object_tagging(Bucket="dst-bucket", Key="a", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert pair.wait_idle(5)
    assert s3().get_object_tagging(Bucket="src-bucket", Key="a")["TagSet"] == []


def test_source_tag_changes_are_replicated(pair):
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert pair.wait_idle(5)
    s3().put_object_tagging(Bucket="src-bucket", Key="a", Tagging={"TagSet": [{"Key": "k", "Value": "2"}]})
    assert pair.wait_idle(5)
    assert s3("eu-west-1").get_object_tagging(Bucket="dst-bucket", Key="a")["TagSet"] == [{"Key": "k", "Value": "2"}]


def test_paused_engine_keeps_pending(pair):
    pair.paused.clear()
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert not pair.wait_idle(0.3)
    assert status("src-bucket", "a") == "PENDING"
    pair.paused.set()
    assert pair.wait_idle(5)
    assert status("src-bucket", "a") == "COMPLETED"
