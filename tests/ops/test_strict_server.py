"""The strict rules hold in the emulator's server (``LocalAws``): for boto3 over HTTP and for CloudFormation, whose
resource models and in-process custom resources reach the same moto backends.

AWS sources: see each rule's module in ``mrap_constructs/testing/strict/`` (cited in their docstrings).
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from mrap_constructs.testing.emulator import LocalAws

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def server():
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def aws(server):
    server.reset()
    return server


def test_replication_to_an_unversioned_bucket_is_rejected_by_the_server(aws):
    s3 = aws.client("s3")
    for bucket in ("srv-src", "srv-dst"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket="srv-src", VersioningConfiguration={"Status": "Enabled"})
    configuration = {"Role": f"arn:aws:iam::{ACCOUNT}:role/r", "Rules": [{
        "ID": "r", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::srv-dst"}}]}
    with pytest.raises(ClientError) as excinfo:
        s3.put_bucket_replication(Bucket="srv-src", ReplicationConfiguration=configuration)
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidRequest", "Destination bucket must have versioning enabled.")
    s3.put_bucket_versioning(Bucket="srv-dst", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="srv-src", ReplicationConfiguration=configuration)


def test_cloudformation_bucket_policy_naming_a_missing_role_fails_the_deploy(aws):
    """As in AWS, CreateStack is accepted and the stack ends in ROLLBACK_COMPLETE with the policy's error as the
    reason (``moto_patches._create_rolls_back``); the bucket created before it is deleted again."""
    def template(bucket, principal):
        return json.dumps({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}},
            "Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                                                        "Action": "s3:GetObject",
                                                        "Resource": f"arn:aws:s3:::{bucket}/*"}]}}}}})

    cloudformation = aws.client("cloudformation")
    missing = f"arn:aws:iam::{ACCOUNT}:role/created-later"
    cloudformation.create_stack(StackName="bad-policy", TemplateBody=template("srv-bad", missing))
    stack = cloudformation.describe_stacks(StackName="bad-policy")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == "MalformedPolicy: Invalid principal in policy"
    assert "srv-bad" not in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]], "rolled back"

    aws.client("iam").create_role(RoleName="created-later", AssumeRolePolicyDocument="{}")
    cloudformation.create_stack(StackName="good-policy", TemplateBody=template("srv-good", missing))
    stack = cloudformation.describe_stacks(StackName="good-policy")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_alarm_history_records_the_failed_notification(aws):
    sns, cloudwatch = aws.client("sns"), aws.client("cloudwatch")
    topic = sns.create_topic(Name="alarms", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    cloudwatch.put_metric_alarm(AlarmName="a", Namespace="AWS/S3", MetricName="m", Statistic="Maximum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                                AlarmActions=[topic])
    cloudwatch.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="test")
    items = cloudwatch.describe_alarm_history(AlarmName="a", HistoryItemType="Action")["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == [f"Failed to execute action {topic}"]
