"""Issue 28: cross-account buckets with failover and SSE-KMS, adopted SSE-KMS buckets, and the hardening around them,
as templates (each config synthesizes with cdk-nag and AWS's deploy rules on: a finding would fail the synth).

AWS sources: S3 User Guide "Replicating encrypted objects" (replication-config-for-kms-objects.html: kms:Decrypt on
the source keys, kms:Encrypt on the destination's, and "Granting additional permissions for cross-account
scenarios"); "Bucket owner granting cross-account bucket permissions"; STS AssumeRole; "Changing the replica owner"
(replication-change-owner.html); "Granting permissions for Batch Operations" (batch-ops-iam-role-policies.html).
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from mrap_constructs.mrap_set import existing_key_problems, set_problems
from stacks.config import ConfigError, parse_config
from tests.conftest import ACCOUNT

OTHER = "222222222222"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CROSS = {"name": "xacct", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1"], "encryption": "sse-kms",
         "bucket_accounts": {"eu-west-1": OTHER}, "failover": {"active": ["us-east-1"]},
         "bucket_account_readers": [f"arn:aws:iam::{ACCOUNT}:role/operators-*"]}
ADOPT = {"name": "adoptkms", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1"], "encryption": "sse-kms",
         "existing_buckets": {"us-east-1": "legacy-media"}, "existing_bucket_keys": {"us-east-1": KEY}}
READER = f"arn:aws:iam::{OTHER}:role/xacct-reader-eu-west-1"
HANDLER = f"arn:aws:iam::{ACCOUNT}:role/xacct-routes"
SOURCE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/xacct-replication-us-east-1"
OTHER_KEY = f"arn:aws:kms:eu-west-1:{OTHER}:alias/xacct-mrap"


@pytest.fixture(scope="module")
def cross(synth):
    return synth(CROSS)


@pytest.fixture(scope="module")
def adopted(synth):
    return synth(ADOPT)


# --- config ------------------------------------------------------------------------------------------------------


def test_sse_kms_across_accounts_is_accepted():
    assert not set_problems(regions=["us-east-1", "eu-west-1"], account=ACCOUNT, bucket_accounts={"eu-west-1": OTHER},
                            existing_buckets={}, encryption="sse-kms", kms=True)


def test_fails_an_adopted_sse_kms_bucket_without_its_key_naming_the_key_to_give():
    with pytest.raises(ConfigError) as raised:
        parse_config({**ADOPT, "existing_bucket_keys": {}})
    message = str(raised.value)
    assert "existing_bucket_keys['us-east-1']=None" in message and "legacy-media" in message
    assert "arn:aws:kms:us-east-1:ACCOUNT:key/ID" in message and "kms:Decrypt" in message


def test_fails_an_adopted_key_in_another_region_or_for_no_existing_bucket():
    found = existing_key_problems(existing_buckets={"us-east-1": "legacy"}, kms=True, existing_bucket_keys={
        "us-east-1": KEY.replace("us-east-1", "eu-west-1"), "eu-west-1": KEY.replace("us-east-1", "eu-west-1")})
    rules = {field: rule for field, _, rule in found}
    assert "is a key in eu-west-1" in rules["existing_bucket_keys['us-east-1']"]
    assert "names a Region without an existing bucket" in rules["existing_bucket_keys['eu-west-1']"]


def test_fails_a_reader_principal_of_another_account():
    with pytest.raises(ConfigError, match=r"bucket_account_readers\[0\].*must be a principal of the MRAP account"):
        parse_config({**CROSS, "bucket_account_readers": [f"arn:aws:iam::{OTHER}:role/ops"]})


# --- finding 1: the in-sync check reads every account ------------------------------------------------------------


def test_bucket_account_has_a_read_only_role_trusted_by_the_mrap_account_for_named_principals(cross):
    template = cross.template("xacct-bucket-eu-west-1")
    template.has_resource_properties("AWS::IAM::Role", {
        "RoleName": "xacct-reader-eu-west-1",
        "AssumeRolePolicyDocument": {"Statement": [{
            "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            # the handler role is created in wave 2: named in a condition, not as a principal
            "Condition": {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/operators-*", HANDLER]}}}]}})
    [policy] = template.find_resources("AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [
        {"Ref": Match.string_like_regexp("StateReader")}]}}).values()
    actions = sorted(a for st in policy["Properties"]["PolicyDocument"]["Statement"]
                     for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"]))
    assert actions == ["cloudwatch:GetMetricData", "s3:GetBucketVersioning", "s3:GetReplicationConfiguration"]
    assert not cross.template_json("xacct-bucket-us-east-1")["Resources"].get("StateReader987822F9"), \
        "no reader in the MRAP's own account"


def test_routes_handler_has_its_fixed_name_assumes_the_readers_and_passes_them(cross):
    template = cross.template("xacct-access-point")
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "xacct-routes"})
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        {"Sid": "AssumeBucketAccountReaders", "Action": "sts:AssumeRole", "Effect": "Allow", "Resource": READER}])}})
    template.has_resource_properties("Custom::MrapRoutes", {"RequireInSync": "true",
                                                            "ReaderRoles": {"eu-west-1": READER}})


def test_dashboard_reads_each_account_s_metrics(cross):
    [dashboard] = [r for r in cross.template_json("xacct-access-point")["Resources"].values()
                   if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = "".join(part if isinstance(part, str) else "?" for part in
                   dashboard["Properties"]["DashboardBody"]["Fn::Join"][1])
    assert body.count(f'"accountId":"{OTHER}"') == 3, "the three graphs of the eu-west-1 row"
    assert f'"accountId":"{ACCOUNT}"' not in body


# --- finding 3: SSE-KMS across accounts ---------------------------------------------------------------------------


def test_destination_key_admits_the_other_account_s_replication_role_by_condition(cross):
    cross.template("xacct-bucket-eu-west-1").has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {
        "Statement": Match.array_with([{
            "Sid": "AdmitReplicationFromOtherAccounts", "Action": "kms:Encrypt", "Effect": "Allow", "Resource": "*",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [SOURCE_ROLE]},
                          "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}])}})


def test_source_role_encrypts_with_the_destination_account_s_key_and_owner_is_enforced(cross):
    template = cross.template("xacct-replication-us-east-1")
    template.has_resource_properties("Custom::S3BucketReplication", {"Rules": [Match.object_like({
        "Destination": {"Bucket": f"arn:aws:s3:::xacct-{OTHER}-eu-west-1", "Account": OTHER,
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": OTHER_KEY},
                        "Metrics": Match.any_value()}})]})
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "EncryptReplicasEuwest1", "Action": "kms:Encrypt",
                           "Resource": f"arn:aws:kms:eu-west-1:{OTHER}:key/*"})])}})
    text = json.dumps(cross.template_json("xacct-replication-us-east-1"))
    # BucketOwnerEnforced destinations own replicas without the override (replication-change-owner.html)
    assert "AccessControlTranslation" not in text and "ObjectOwnerOverrideToBucketOwner" not in text


# --- finding 2: an adopted SSE-KMS bucket -------------------------------------------------------------------------


def test_adopted_bucket_key_is_granted_to_its_replication_and_backfill_roles(adopted):
    for stack in ("adoptkms-replication-us-east-1", "adoptkms-backfill-us-east-1"):
        adopted.template(stack).has_resource_properties("AWS::IAM::ManagedPolicy", {"PolicyDocument": {
            "Statement": Match.array_with([Match.object_like({
                "Sid": "DecryptSourceObjects", "Action": "kms:Decrypt", "Resource": KEY,
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                              "StringLike": {"kms:EncryptionContext:aws:s3:arn": [
                                  "arn:aws:s3:::legacy-media", "arn:aws:s3:::legacy-media/*"]}}})])}})


def test_replicas_into_the_adopted_bucket_are_encrypted_with_its_key(adopted):
    adopted.template("adoptkms-replication-eu-west-1").has_resource_properties("Custom::S3BucketReplication", {
        "Rules": [Match.object_like({"Destination": Match.object_like({
            "Bucket": "arn:aws:s3:::legacy-media", "EncryptionConfiguration": {"ReplicaKmsKeyID": KEY}})})]})


# --- hardening: management events opt-in ------------------------------------------------------------------------


@pytest.mark.parametrize(("opt_in", "expected"), [(False, False), (True, True)])
def test_trail_logs_management_events_only_on_request(synth, opt_in, expected):
    config = {"name": "trailed", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1"],
              "monitoring": {"cloudtrail": True, "cloudtrail_management_events": opt_in}}
    synth(config).template("trailed-access-point").has_resource_properties("AWS::CloudTrail::Trail", {
        "EventSelectors": [Match.object_like({"IncludeManagementEvents": expected})]})
