"""The emulator's CloudFormation models on moto's own update path: what each request a resource gets, and when."""

from __future__ import annotations

import json

import pytest

from mrap_constructs.testing import cfn_models
from tests.ops.conftest import SESSION

STACK = "models"


def _template(**resources: dict) -> str:
    return json.dumps({"Resources": resources})


def _custom(**props: str) -> dict:
    return {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f", **props}}


@pytest.fixture
def requests(aws, monkeypatch):
    """Every request the custom-resource runner gets: (request type, properties, physical id, old properties)."""
    seen: list[tuple[str, dict, str | None, dict | None]] = []

    def handle(state, resource_type, request_type, properties, logical_id, account_id, region_name, physical_id,
               old_properties=None):
        seen.append((request_type, properties, physical_id, old_properties))
        return properties.get("Physical", "thing-1"), {"Out": properties.get("Size")}

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    return seen


def test_custom_resource_update_carries_old_properties(requests):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template(Thing=_custom(Size="1")))
    cloudformation.update_stack(StackName=STACK, TemplateBody=_template(Thing=_custom(Size="2")))
    assert [r[0] for r in requests] == ["Create", "Update"]
    _, properties, physical, old = requests[1]
    assert properties["Size"] == "2" and old["Size"] == "1" and physical == "thing-1"


def test_custom_resource_replaced_by_its_handler_gets_delete_for_the_old_id(requests):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template(Thing=_custom(Size="1")))
    cloudformation.update_stack(StackName=STACK, TemplateBody=_template(Thing=_custom(Size="1", Physical="thing-2")))
    assert [(r[0], r[2]) for r in requests] == [("Create", None), ("Update", "thing-1"), ("Delete", "thing-1")]
    assert requests[2][1]["Size"] == "1" and "Physical" not in requests[2][1], "Delete gets the old properties"


def test_custom_resource_removed_from_the_template_gets_delete(requests):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template(Thing=_custom(Size="1"),
                                                                        Topic={"Type": "AWS::SNS::Topic"}))
    cloudformation.update_stack(StackName=STACK, TemplateBody=_template(Topic={"Type": "AWS::SNS::Topic"}))
    assert [(r[0], r[2]) for r in requests] == [("Create", None), ("Delete", "thing-1")]


ALARM = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
    "Namespace": "AWS/S3", "MetricName": "OperationsFailedReplication", "ComparisonOperator": "GreaterThanThreshold",
    "EvaluationPeriods": 1, "Period": 300, "Statistic": "Sum", "Threshold": 0, "TreatMissingData": "notBreaching",
    "Dimensions": [{"Name": "SourceBucket", "Value": "b"}]}}


def test_alarms_are_created_updated_in_place_and_deleted(aws):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudwatch = SESSION.client("cloudwatch", region_name="us-east-1")
    cloudformation.create_stack(StackName=STACK, TemplateBody=_template(Alarm=ALARM))
    [alarm] = cloudwatch.describe_alarms()["MetricAlarms"]
    assert alarm["AlarmName"].startswith(f"{STACK}-Alarm-") and alarm["Threshold"] == 0
    changed = {**ALARM, "Properties": {**ALARM["Properties"], "Threshold": 5}}
    cloudformation.update_stack(StackName=STACK, TemplateBody=_template(Alarm=changed))
    assert [(a["AlarmName"], a["Threshold"]) for a in cloudwatch.describe_alarms()["MetricAlarms"]] == [
        (alarm["AlarmName"], 5)]
    cloudformation.update_stack(StackName=STACK, TemplateBody=_template(Topic={"Type": "AWS::SNS::Topic"}))
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []


# --- AWS::CloudTrail::Trail and AWS::SNS::TopicPolicy (moto skips both) --------------------------------------------

ACCOUNT = "123456789012"


def _key(*, admits_cloudtrail: bool) -> dict:
    statements = [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                   "Resource": "*"}]
    if admits_cloudtrail:
        statements.append({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                           "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*"})
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": statements}}}


def _trail_stack(*, admits_cloudtrail: bool = True, logging: bool = True, prefix: str | None = None) -> str:
    trail = {"TrailName": "data-events", "S3BucketName": {"Ref": "Bucket"}, "IsLogging": logging,
             "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "KMSKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
             "EventSelectors": [{"IncludeManagementEvents": True, "ReadWriteType": "All",
                                 "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::media/"]}]}]}
    if prefix:
        trail["S3KeyPrefix"] = prefix
    return json.dumps({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "trail-logs"}},
        "Key": _key(admits_cloudtrail=admits_cloudtrail),
        "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": trail}},
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Trail", "Arn"]}},
                    "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}}})


def test_trail_is_created_updated_in_place_and_deleted_with_its_stack(aws):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudtrail = SESSION.client("cloudtrail", region_name="us-east-1")
    cloudformation.create_stack(StackName="trail", TemplateBody=_trail_stack())
    stack = cloudformation.describe_stacks(StackName="trail")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    [trail] = cloudtrail.describe_trails()["trailList"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert trail["KmsKeyId"] == outputs["KeyArn"] and trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert outputs["Arn"] == trail["TrailARN"]
    kms = SESSION.client("kms", region_name="us-east-1")
    policy = json.loads(kms.get_key_policy(KeyId=outputs["KeyArn"], PolicyName="default")["Policy"])
    assert {"Service": "cloudtrail.amazonaws.com"} in [st["Principal"] for st in policy["Statement"]]
    assert cloudtrail.get_trail_status(Name="data-events")["IsLogging"] is True
    selectors = cloudtrail.get_event_selectors(TrailName="data-events")["EventSelectors"]
    assert selectors[0]["DataResources"][0]["Values"] == ["arn:aws:s3:::media/"]

    cloudformation.update_stack(StackName="trail", TemplateBody=_trail_stack(logging=False, prefix="logs"))
    [updated] = cloudtrail.describe_trails()["trailList"]
    assert updated["TrailARN"] == trail["TrailARN"] and updated["S3KeyPrefix"] == "logs", "updated in place"
    assert cloudtrail.get_trail_status(Name="data-events")["IsLogging"] is False

    cloudformation.delete_stack(StackName="trail")
    assert cloudtrail.describe_trails()["trailList"] == []


def test_fails_trail_under_a_key_not_admitting_cloudtrail(aws):
    """The strict rule (strict/cloudtrail_kms.py) now meets a deploy: the stack rolls back with CloudTrail's error."""
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="trail", TemplateBody=_trail_stack(admits_cloudtrail=False))
    stack = cloudformation.describe_stacks(StackName="trail")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"].startswith("InsufficientEncryptionPolicyException: ")
    assert SESSION.client("cloudtrail", region_name="us-east-1").describe_trails()["trailList"] == []


def _topic_policy_stack(principal: str, *, with_policy: bool = True) -> str:
    resources: dict = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alarms"}}}
    if with_policy:
        resources["Policy"] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "Topic"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "Publish", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sns:Publish",
                "Resource": {"Ref": "Topic"}}]}}}
    return json.dumps({"Resources": resources})


def _topic_policy() -> dict:
    sns = SESSION.client("sns", region_name="us-east-1")
    return json.loads(sns.get_topic_attributes(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:alarms")[
        "Attributes"]["Policy"])


def test_topic_policy_is_set_and_reset_to_the_default_when_removed(aws):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="topic", TemplateBody=_topic_policy_stack(f"arn:aws:iam::{ACCOUNT}:root"))
    assert [s["Sid"] for s in _topic_policy()["Statement"]] == ["Publish"]
    cloudformation.update_stack(StackName="topic", TemplateBody=_topic_policy_stack("", with_policy=False))
    assert [s["Sid"] for s in _topic_policy()["Statement"]] == ["__default_statement_ID"], "SNS's default policy"


def test_fails_topic_policy_naming_a_role_that_does_not_exist(aws):
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="topic",
                                TemplateBody=_topic_policy_stack(f"arn:aws:iam::{ACCOUNT}:role/created-later"))
    stack = cloudformation.describe_stacks(StackName="topic")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"].startswith("InvalidParameter: ")
