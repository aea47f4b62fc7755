"""Strict S3 PutBucketReplication (``mrap_constructs.testing.strict.s3_replication``).

AWS sources: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.ops.conftest import ACCOUNT, SESSION

SOURCE, DEST, PLAIN = f"src-{ACCOUNT}", f"dst-{ACCOUNT}", f"plain-{ACCOUNT}"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/replication"


@pytest.fixture
def s3(aws):
    """A versioned source (us-east-1), a versioned destination and an unversioned bucket (eu-west-1)."""
    east = SESSION.client("s3", region_name="us-east-1")
    east.create_bucket(Bucket=SOURCE)
    west = SESSION.client("s3", region_name="eu-west-1")
    for bucket in (DEST, PLAIN):
        west.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for bucket in (SOURCE, DEST):
        SESSION.client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return east


def rule(**overrides):
    base = {"ID": "to-dst", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
            "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"}}
    return {**base, **overrides}


def put(s3, *rules, bucket=SOURCE):
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": ROLE, "Rules": list(rules)})


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_valid_mesh_rule_is_accepted(s3):
    put(s3, rule(), rule(ID="second", Priority=2, Filter={"Prefix": "logs/"},
                         Destination={"Bucket": f"arn:aws:s3:::{DEST}", "ReplicationTime": {
                             "Status": "Enabled", "Time": {"Minutes": 15}}, "Metrics": {
                             "Status": "Enabled", "EventThreshold": {"Minutes": 15}}}))
    assert len(s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]["Rules"]) == 2


def test_fails_unversioned_source(s3):
    s3.create_bucket(Bucket="unversioned-src")
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(), bucket="unversioned-src")
    assert error(excinfo) == ("InvalidRequest",
                              "Versioning must be 'Enabled' on the bucket to apply a replication configuration")


def test_fails_missing_destination(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(Destination={"Bucket": "arn:aws:s3:::no-such-bucket"}))
    assert error(excinfo) == ("InvalidRequest", "Destination bucket must exist")


def test_fails_unversioned_destination(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(Destination={"Bucket": f"arn:aws:s3:::{PLAIN}"}))
    assert error(excinfo) == ("InvalidRequest", "Destination bucket must have versioning enabled.")


def test_destination_in_another_account_is_found(s3):
    from moto.s3.models import s3_backends

    other = s3_backends["210987654321"]["aws"]
    other.create_bucket("dst-other-account", "eu-west-1")
    other.put_bucket_versioning("dst-other-account", "Enabled")
    put(s3, rule(Destination={"Bucket": "arn:aws:s3:::dst-other-account", "Account": "210987654321"}))


@pytest.mark.parametrize("rule_filter", [
    {"Tag": {"Key": "k", "Value": "v"}},
    {"And": {"Prefix": "p/", "Tags": [{"Key": "k", "Value": "v"}]}},  # one tag: xmltodict gives a dict
    {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},  # two: a list
])
def test_fails_delete_marker_replication_with_tag_filter(s3, rule_filter):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(Filter=rule_filter))
    assert error(excinfo) == ("InvalidRequest",
                              "DeleteMarkerReplication is not supported if any Tag filter is specified")
    put(s3, rule(Filter=rule_filter, DeleteMarkerReplication={"Status": "Disabled"}))


def test_fails_replication_time_without_metrics(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(Destination={"Bucket": f"arn:aws:s3:::{DEST}", "ReplicationTime": {
            "Status": "Enabled", "Time": {"Minutes": 15}}}))
    assert error(excinfo)[0] == "InvalidRequest"


def test_fails_sse_kms_without_replica_key_and_vice_versa(s3):
    sse = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    encrypted = {"Bucket": f"arn:aws:s3:::{DEST}", "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:x"}}
    for bad in (rule(SourceSelectionCriteria=sse), rule(Destination=encrypted)):
        with pytest.raises(ClientError) as excinfo:
            put(s3, bad)
        assert error(excinfo)[0] == "InvalidRequest"
    put(s3, rule(SourceSelectionCriteria=sse, Destination=encrypted))


def test_fails_overlapping_priorities(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(), rule(ID="other"))
    assert error(excinfo) == ("InvalidArgument", "Found overlapping priorities")


def test_fails_duplicate_rule_ids(s3):
    with pytest.raises(ClientError) as excinfo:
        put(s3, rule(), rule(Priority=2))
    assert error(excinfo)[0] == "InvalidArgument"


def test_moto_itself_accepts_every_broken_configuration(s3, moto_patched):
    """If this fails, moto's backend validates replication itself: revisit strict/s3_replication.py. (moto checks
    only the source's versioning, in S3Response, before calling the backend.)"""
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT]["aws"]
    original = moto_patched["s3_put_bucket_replication"]
    s3.create_bucket(Bucket="unversioned-src")
    broken = {"Role": ROLE, "Rule": [
        {"ID": "a", "Priority": "1", "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
         "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::no-such-bucket"}},
        {"ID": "a", "Priority": "1", "Status": "Enabled", "Filter": {"Prefix": None},
         "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
         "Destination": {"Bucket": f"arn:aws:s3:::{PLAIN}", "ReplicationTime": {"Status": "Enabled"}}}]}
    original(backend, "unversioned-src", broken)
    assert backend.get_bucket_replication("unversioned-src")["Rule"][0]["ID"] == "a"
