"""The in-sync check across accounts (issue 28, finding 1): a bucket of another account is read through the read-only
role the set creates there (STS AssumeRole), never with the MRAP account's credentials; what cannot be read makes the
backlog unknown, which is never "in sync".

AWS: a cross-account request needs the bucket owner's grant (S3 User Guide, "Bucket owner granting cross-account
bucket permissions"; the MRAP's bucket policies grant only the access-point delegation and replication roles), and
S3 publishes a rule's replication metrics in the source bucket owner's account and Region
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html). moto in-process, with the emulator's
strictness on (``testing/strict/cross_account_reads.py``).
"""

from __future__ import annotations

import datetime as dt

import boto3
import pytest

from mrap_constructs.handlers.routes import on_event
from mrap_constructs.ops.client import MrapClient, MrapError
from tests.ops.conftest import ACCOUNT, SESSION

OTHER = "222222222222"
HOME, AWAY = "us-east-1", "eu-west-1"
HOME_BUCKET = f"media-{ACCOUNT}-{HOME}"
AWAY_BUCKET = f"media-{OTHER}-{AWAY}"  # the set's deterministic name: its reader role can be derived
READER = f"arn:aws:iam::{OTHER}:role/media-reader-{AWAY}"


def _session_in(account: str) -> boto3.Session:
    issued = SESSION.client("sts", region_name=HOME).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", RoleSessionName="setup")["Credentials"]
    return boto3.Session(aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
                         aws_session_token=issued["SessionToken"])


def _mrap(away_bucket: str) -> str:
    """HOME's bucket in ACCOUNT; ``away_bucket`` in OTHER replicating into HOME; the MRAP in ACCOUNT over both."""
    home = SESSION.client("s3", region_name=HOME)
    home.create_bucket(Bucket=HOME_BUCKET)
    home.put_bucket_versioning(Bucket=HOME_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    away = _session_in(OTHER).client("s3", region_name=AWAY)
    away.create_bucket(Bucket=away_bucket, CreateBucketConfiguration={"LocationConstraint": AWAY})
    away.put_bucket_versioning(Bucket=away_bucket, VersioningConfiguration={"Status": "Enabled"})
    away.put_bucket_replication(Bucket=away_bucket, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{OTHER}:role/media-replication-{AWAY}",
        "Rules": [{"ID": f"to-{HOME}", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{HOME_BUCKET}", "Account": ACCOUNT,
                                   "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}}]})
    SESSION.client("s3control", region_name="us-west-2").create_multi_region_access_point(
        AccountId=ACCOUNT, ClientToken="t", Details={
            "Name": "media", "PublicAccessBlock": {k: True for k in (
                "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")},
            "Regions": [{"Bucket": HOME_BUCKET}, {"Bucket": away_bucket, "BucketAccountId": OTHER}]})
    return "media"


def _publish_in_other_account(operations: float) -> None:
    dims = [{"Name": "SourceBucket", "Value": AWAY_BUCKET}, {"Name": "DestinationBucket", "Value": HOME_BUCKET},
            {"Name": "RuleId", "Value": f"to-{HOME}"}]
    _session_in(OTHER).client("cloudwatch", region_name=AWAY).put_metric_data(Namespace="AWS/S3", MetricData=[
        {"MetricName": name, "Dimensions": dims, "Value": operations, "Timestamp": dt.datetime.now(dt.UTC)}
        for name in ("OperationsPendingReplication", "BytesPendingReplication")])


def test_emulator_denies_a_cross_account_read_the_bucket_policy_does_not_grant(aws):
    _mrap(AWAY_BUCKET)
    s3 = SESSION.client("s3", region_name=AWAY)  # ACCOUNT's credentials
    with pytest.raises(s3.exceptions.ClientError, match="AccessDenied"):
        s3.get_bucket_replication(Bucket=AWAY_BUCKET)


def test_the_other_account_is_read_through_its_reader_role(aws, client):
    name = _mrap(AWAY_BUCKET)
    info = client.describe(name)
    assert client.reader_role(info, AWAY) == READER and client.reader_role(info, HOME) is None
    backlog = client.backlog(info, HOME)
    assert (backlog.rules, backlog.unknown, backlog.in_sync) == (1, [], True)


def test_the_backlog_is_read_from_the_other_account_s_metrics(aws, client):
    name = _mrap(AWAY_BUCKET)
    _publish_in_other_account(7)
    backlog = client.backlog(client.describe(name), HOME)
    assert backlog.pending_operations == 7 and not backlog.in_sync
    assert backlog.describe().startswith(f"{HOME} is behind: 7 operations")


def test_an_unreadable_account_is_unknown_never_in_sync(aws, client):
    name = _mrap("legacy-media-away")  # not the set's name: no reader role can be derived
    backlog = client.backlog(client.describe(name), HOME)
    assert backlog.rules == 0 and not backlog.in_sync
    assert backlog.describe().startswith(f"{HOME} is unknown: the rules of legacy-media-away ({AWAY}) could not be "
                                         "read: NoReaderRole")
    assert backlog.to_dict()["unknown"] and backlog.to_dict()["in_sync"] is False


def test_an_explicit_reader_role_wins_over_the_derived_one(aws, clock):
    name = _mrap("legacy-media-away")
    client = MrapClient(ACCOUNT, session=SESSION, sleep=clock.sleep, clock=clock,
                        reader_roles={AWAY: f"arn:aws:iam::{OTHER}:role/custom-reader"})
    backlog = client.backlog(client.describe(name), HOME)
    assert (backlog.rules, backlog.in_sync) == (1, True)


def test_the_routes_handler_refuses_to_activate_over_an_unknown_backlog(aws, client):
    name = _mrap("legacy-media-away")
    event = {"RequestType": "Update", "PhysicalResourceId": "media-routes",
             "ResourceProperties": {"AccountId": ACCOUNT, "MrapName": name, "TimeoutSeconds": "60",
                                    "Dials": {HOME: "100", AWAY: "0"}},
             "OldResourceProperties": {"AccountId": ACCOUNT, "MrapName": name, "Dials": {HOME: "0", AWAY: "100"}}}
    with pytest.raises(MrapError, match=rf"TargetBehind: refusing to activate: {HOME} is unknown"):
        on_event(event, None, client_factory=lambda account, routes_region=None: client)


def test_the_routes_handler_reads_through_the_reader_roles_it_is_given(aws, client):
    name = _mrap("legacy-media-away")
    event = {"RequestType": "Update", "PhysicalResourceId": "media-routes",
             "ResourceProperties": {"AccountId": ACCOUNT, "MrapName": name, "TimeoutSeconds": "60",
                                    "Dials": {HOME: "100", AWAY: "0"},
                                    "ReaderRoles": {AWAY: f"arn:aws:iam::{OTHER}:role/custom-reader"}},
             "OldResourceProperties": {"AccountId": ACCOUNT, "MrapName": name, "Dials": {HOME: "0", AWAY: "100"}}}
    result = on_event(event, None, client_factory=lambda account, routes_region=None: client)
    assert result["Data"]["ActiveRegions"].split(",") == [HOME], "the check read OTHER's rules (nothing pending)"
    assert client.reader_roles == {AWAY: f"arn:aws:iam::{OTHER}:role/custom-reader"}
