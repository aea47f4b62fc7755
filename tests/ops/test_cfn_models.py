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

    def handle(resource_type, request_type, properties, logical_id, account_id, region_name, physical_id,
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
