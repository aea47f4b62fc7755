"""Object Lock information goes to replicas (in-process moto, short delay).

AWS: "What does Amazon S3 replicate?" lists "S3 Object Lock retention information, if there is any"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html); "Object Lock
considerations", section "Using Object Lock with S3 Replication" (https://docs.aws.amazon.com/AmazonS3/latest/
userguide/object-lock-managing.html): the destination bucket must have Object Lock enabled, and the role needs
``s3:GetObjectRetention`` and ``s3:GetObjectLegalHold`` on the source.
"""

from __future__ import annotations

import datetime

import boto3

from tests.dataplane.conftest import REPLICATE, make_role, replicate, rule, s3

UNTIL = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
LOCK_ACTIONS = [*REPLICATE, "s3:GetObjectRetention", "s3:GetObjectLegalHold"]


def lock_bucket(name: str, region: str, object_lock: bool = True) -> None:
    kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    boto3.client("s3", region_name=region).create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock,
                                                         **kwargs)
    s3(region).put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def put_locked(key: str = "record") -> str:
    return s3().put_object(Bucket="locked-src", Key=key, Body=b"r", ObjectLockMode="GOVERNANCE",
                           ObjectLockRetainUntilDate=UNTIL, ObjectLockLegalHoldStatus="ON")["VersionId"]


def test_retention_and_legal_hold_are_carried_to_the_replica(engine):
    lock_bucket("locked-src", "us-east-1")
    lock_bucket("locked-dst", "eu-west-1")
    replicate("locked-src", "us-east-1", make_role(actions=LOCK_ACTIONS), rule("locked-dst"))
    version = put_locked()
    assert engine.wait_idle(5)
    assert s3().head_object(Bucket="locked-src", Key="record")["ReplicationStatus"] == "COMPLETED"
    replica = s3("eu-west-1")
    head = replica.head_object(Bucket="locked-dst", Key="record", VersionId=version)
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", UNTIL)
    hold = replica.get_object_legal_hold(Bucket="locked-dst", Key="record", VersionId=version)["LegalHold"]
    assert hold == {"Status": "ON"}


def test_a_locked_version_fails_to_replicate_without_the_lock_permissions_or_an_object_lock_destination(engine):
    lock_bucket("locked-src", "us-east-1")
    lock_bucket("locked-dst", "eu-west-1")
    lock_bucket("plain-dst", "eu-west-2", object_lock=False)
    replicate("locked-src", "us-east-1", make_role(actions=REPLICATE),
              rule("locked-dst", id="to-locked", priority=1), rule("plain-dst", id="to-plain", priority=2))
    put_locked()
    s3().put_object(Bucket="locked-src", Key="unlocked", Body=b"u")
    assert engine.wait_idle(5)
    reasons = {(o.key_name, o.destination_bucket): o.reason for o in engine.outcomes}
    assert "s3:GetObjectRetention" in reasons[("record", "locked-dst")]
    assert "Object Lock" in reasons[("record", "plain-dst")]
    assert s3().head_object(Bucket="locked-src", Key="record")["ReplicationStatus"] == "FAILED"
    assert reasons[("unlocked", "locked-dst")] == reasons[("unlocked", "plain-dst")] == ""
