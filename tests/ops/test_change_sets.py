"""Change sets on the emulator (``mrap_constructs.testing.change_sets``): each correction paired with a test that moto
still behaves as the correction assumes (fails when a moto upgrade fixes it: drop the correction then).

AWS sources: CloudFormation API reference, CreateChangeSet
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html) and ExecuteChangeSet
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html), as modelled in
botocore ``data/cloudformation/2010-05-15/service-2.json`` (errors, ``ChangeSetType``, ``ChangeSetName``); S3 URL
forms: https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html.
"""

from __future__ import annotations

import inspect
import json

import pytest
from botocore.exceptions import ClientError

from mrap_constructs.testing import change_sets
from tests.ops.conftest import ACCOUNT, SESSION

TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "topic-arn"}}}}
#: What the CDK CLI passes as TemplateURL with AWS_ENDPOINT_URL=http://127.0.0.1:PORT (S3 client: path-style).
EMULATOR_URL = "http://127.0.0.1:4566/cdk-hnb659fds-assets-{account}-us-east-1/cdk/Stack/abc.yml"


def _cloudformation():
    return SESSION.client("cloudformation", region_name="us-east-1")


def _staged(template: dict) -> str:
    """The template in a CDK-like staging bucket; its URL as the CDK CLI builds it against the emulator."""
    s3 = SESSION.client("s3", region_name="us-east-1")
    bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-us-east-1"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cdk/Stack/abc.yml", Body=json.dumps(template).encode())
    return EMULATOR_URL.format(account=ACCOUNT)


def _backend():
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT]["us-east-1"]


# --- 1. TemplateURL --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    # the emulator's own endpoint (what the CDK CLI builds from AWS_ENDPOINT_URL): path-style
    ("http://127.0.0.1:4566/b/k/t.yml", ("b", "k/t.yml")),
    ("http://localhost:4566/b/t.yml", ("b", "t.yml")),
    ("http://[::1]:4566/b/t.yml", ("b", "t.yml")),
    # S3 path-style, global, Regional and dash-Regional endpoints
    ("https://s3.amazonaws.com/b/t.yml", ("b", "t.yml")),
    ("https://s3.eu-west-1.amazonaws.com/b/dir/t.yml", ("b", "dir/t.yml")),
    ("https://s3-eu-west-1.amazonaws.com/b/t.yml", ("b", "t.yml")),
    # S3 virtual-hosted, with and without a Region, a dotted bucket name
    ("https://b.s3.amazonaws.com/t.yml", ("b", "t.yml")),
    ("https://b.s3.eu-west-1.amazonaws.com/dir/t.yml", ("b", "dir/t.yml")),
    ("https://my.dotted.bucket.s3.us-east-1.amazonaws.com/t.yml", ("my.dotted.bucket", "t.yml")),
    ("https://b.s3-eu-west-1.amazonaws.com/t.yml", ("b", "t.yml")),
])
def test_template_location_reads_every_s3_url_form(url, expected):
    assert change_sets.template_location(url) == expected


def test_template_location_refuses_a_url_without_a_key():
    with pytest.raises(ValueError, match="does not name an S3 bucket and key"):
        change_sets.template_location("https://s3.amazonaws.com/only-a-bucket")


def test_moto_still_reads_the_emulator_url_virtual_hosted(aws, moto_patched):
    """If this fails, moto reads a path-style URL on an IP endpoint: drop change_sets._template_url."""
    from moto.s3.exceptions import MissingBucket

    url = _staged(TEMPLATE)
    with pytest.raises(MissingBucket):  # moto took "127" (the host's first label) for the bucket
        moto_patched["get_stack_from_s3_url"](url, account_id=ACCOUNT, partition="aws")


def test_patched_change_set_reads_the_template_the_cdk_staged(aws):
    url = _staged(TEMPLATE)
    created = _cloudformation().create_change_set(StackName="s", ChangeSetName="cdk-deploy-change-set",
                                                  TemplateURL=url, ChangeSetType="CREATE")
    described = _cloudformation().describe_change_set(ChangeSetName=created["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert [c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]] == ["Topic"]


def test_patched_unreadable_template_is_a_validation_error(aws):
    _staged(TEMPLATE)
    with pytest.raises(ClientError) as err:
        _cloudformation().create_change_set(StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                            TemplateURL="http://127.0.0.1:4566/no-such-bucket/t.yml")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["Error"]["Message"] == "S3 error: The specified bucket does not exist"


# --- 2. ExecuteChangeSet (CREATE) ------------------------------------------------------------------------------------

def test_moto_still_executes_a_create_change_set_without_outputs(aws, moto_patched):
    """If this fails, moto builds the stack from the change set: drop the CREATE branch of
    change_sets._execute_change_set."""
    cloudformation = _cloudformation()
    created = cloudformation.create_change_set(StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                               TemplateBody=json.dumps(TEMPLATE))
    moto_patched["execute_change_set"](_backend(), created["Id"])
    stack = cloudformation.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE" and "Outputs" not in stack
    assert cloudformation.list_exports()["Exports"] == []


def test_patched_create_change_set_has_outputs_exports_and_events(aws):
    cloudformation = _cloudformation()
    created = cloudformation.create_change_set(StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                               TemplateBody=json.dumps(TEMPLATE))
    assert cloudformation.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"
    cloudformation.execute_change_set(ChangeSetName="c", StackName="s")
    stack = cloudformation.describe_stacks(StackName="s")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE" and stack["StackId"] == created["StackId"]
    [output] = stack["Outputs"]
    assert output["OutputKey"] == "TopicArn" and output["OutputValue"].startswith("arn:aws:sns:us-east-1:")
    assert [e["Name"] for e in cloudformation.list_exports()["Exports"]] == ["topic-arn"]
    statuses = [e["ResourceStatus"] for e in cloudformation.describe_stack_events(StackName="s")["StackEvents"]]
    assert {"REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"} <= set(statuses)
    assert cloudformation.describe_change_set(ChangeSetName="c", StackName="s")["ExecutionStatus"] == \
        "EXECUTE_COMPLETE"


def test_patched_create_change_set_imports_another_stacks_export(aws):
    cloudformation = _cloudformation()
    cloudformation.create_stack(StackName="exporter", TemplateBody=json.dumps(TEMPLATE))
    importer = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"Imported": {"Value": {"Fn::ImportValue": "topic-arn"}}}}
    cloudformation.create_change_set(StackName="importer", ChangeSetName="c", ChangeSetType="CREATE",
                                     TemplateBody=json.dumps(importer))
    cloudformation.execute_change_set(ChangeSetName="c", StackName="importer")
    [output] = cloudformation.describe_stacks(StackName="importer")["Stacks"][0]["Outputs"]
    exported = cloudformation.describe_stacks(StackName="exporter")["Stacks"][0]["Outputs"][0]["OutputValue"]
    assert output["OutputValue"] == exported


def test_patched_failing_create_change_set_rolls_back(aws, monkeypatch):
    from mrap_constructs.testing import cfn_models

    def handle(*args, **kwargs):
        raise RuntimeError("handler failed")

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}, "Thing": {
        "Type": "Custom::Thing", "DependsOn": ["Topic"],
        "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f"}}}}
    cloudformation = _cloudformation()
    cloudformation.create_change_set(StackName="fails", ChangeSetName="c", ChangeSetType="CREATE",
                                     TemplateBody=json.dumps(template))
    cloudformation.execute_change_set(ChangeSetName="c", StackName="fails")  # answered: the stack fails, not the call
    stack = cloudformation.describe_stacks(StackName="fails")["Stacks"][0]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == ("ROLLBACK_COMPLETE", "RuntimeError: handler failed")
    assert SESSION.client("sns", region_name="us-east-1").list_topics()["Topics"] == [], "the topic was deleted"
    assert cloudformation.describe_change_set(ChangeSetName="c", StackName="fails")["ExecutionStatus"] == \
        "EXECUTE_FAILED"


# --- 3. ExecuteChangeSet (UPDATE), UsePreviousValue --------------------------------------------------------------

BOOTSTRAP_PATH = "/cdk-bootstrap/hnb659fds/version"
CDK_LIKE = {"Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                                "Default": BOOTSTRAP_PATH}},
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"Version": {"Value": "1"}}}


def _cdk_like_stack() -> None:
    SESSION.client("ssm", region_name="us-east-1").put_parameter(Name=BOOTSTRAP_PATH, Value="30", Type="String")
    _cloudformation().create_stack(StackName="cdk-like", TemplateBody=json.dumps(CDK_LIKE))


def test_moto_still_resolves_use_previous_value_to_the_ssm_value(aws, moto_patched):
    """If this fails, moto's CreateChangeSet no longer reads UsePreviousValue from the resolved parameters: drop
    change_sets._update_change_set_parameters."""
    _cdk_like_stack()
    stack = _backend().get_stack("cdk-like")
    assert stack.stack_parameters["BootstrapVersion"] == "30", "the SSM value, not the parameter name"
    source = inspect.getsource(moto_patched["create_change_set_response"])
    assert 'stack.stack_parameters[param["ParameterKey"]]' in source


def test_patched_update_change_set_keeps_the_ssm_default_and_updates_outputs(aws):
    _cdk_like_stack()
    cloudformation = _cloudformation()
    changed = {**CDK_LIKE, "Resources": {**CDK_LIKE["Resources"], "Queue": {"Type": "AWS::SQS::Queue"}},
               "Outputs": {"Version": {"Value": "2"}}}
    cloudformation.create_change_set(  # as the CDK CLI sends it on every update
        StackName="cdk-like", ChangeSetName="cdk-deploy-change-set", ChangeSetType="UPDATE",
        TemplateBody=json.dumps(changed), Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}])
    cloudformation.execute_change_set(ChangeSetName="cdk-deploy-change-set", StackName="cdk-like")
    stack = cloudformation.describe_stacks(StackName="cdk-like")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Outputs"] == [{"OutputKey": "Version", "OutputValue": "2"}]
    # CloudFormation's previous value of a defaulted SSM parameter is its name, resolved again on update.
    assert _backend().get_stack("cdk-like").parameters == {"BootstrapVersion": BOOTSTRAP_PATH}
    assert stack["Parameters"] == [{"ParameterKey": "BootstrapVersion", "ParameterValue": "30"}]
    assert len(SESSION.client("sqs", region_name="us-east-1").list_queues().get("QueueUrls", [])) == 1


def test_patched_failing_update_change_set_rolls_back(aws, monkeypatch):
    from mrap_constructs.testing import cfn_models

    _cdk_like_stack()

    def handle(*args, **kwargs):
        raise RuntimeError("handler failed")

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    changed = {**CDK_LIKE, "Resources": {**CDK_LIKE["Resources"], "Thing": {
        "Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f"}}}}
    cloudformation = _cloudformation()
    cloudformation.create_change_set(StackName="cdk-like", ChangeSetName="c", ChangeSetType="UPDATE",
                                     TemplateBody=json.dumps(changed),
                                     Parameters=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}])
    cloudformation.execute_change_set(ChangeSetName="c", StackName="cdk-like")
    stack = cloudformation.describe_stacks(StackName="cdk-like")["Stacks"][0]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == ("UPDATE_ROLLBACK_COMPLETE",
                                                                   "RuntimeError: handler failed")
    assert json.loads(json.dumps(cloudformation.get_template(StackName="cdk-like")["TemplateBody"])) == CDK_LIKE


# --- change sets belong to their stack; ExecuteChangeSet's rules ---------------------------------------------------

def _two_stacks_with_the_cdk_change_set_name() -> None:
    cloudformation = _cloudformation()
    for name in ("first", "second"):
        cloudformation.create_change_set(StackName=name, ChangeSetName="cdk-deploy-change-set", ChangeSetType="CREATE",
                                         TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))


def test_moto_still_matches_a_change_set_name_across_stacks(aws, moto_patched):
    """If this fails, moto scopes change set names to their stack: drop change_sets._change_set_lookup."""
    _two_stacks_with_the_cdk_change_set_name()
    found = moto_patched["describe_change_set"](_backend(), "cdk-deploy-change-set")
    assert found.stack_name == "second", "moto ignores the stack: the last one of that name in the Region"
    from moto.cloudformation.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Stack with id missing does not exist"):
        moto_patched["describe_change_set"](_backend(), "missing")


def test_patched_change_set_names_are_per_stack(aws):
    _two_stacks_with_the_cdk_change_set_name()
    cloudformation = _cloudformation()
    first = cloudformation.describe_change_set(ChangeSetName="cdk-deploy-change-set", StackName="first")
    assert first["StackName"] == "first"
    cloudformation.delete_change_set(ChangeSetName="cdk-deploy-change-set", StackName="first")
    assert cloudformation.describe_change_set(ChangeSetName="cdk-deploy-change-set",
                                              StackName="second")["StackName"] == "second"
    # What `cdk deploy` waits for after deleting its previous change set: ChangeSetNotFound (HTTP 404).
    with pytest.raises(ClientError) as err:
        cloudformation.describe_change_set(ChangeSetName="cdk-deploy-change-set", StackName="first")
    assert err.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Deleting a change set that is not there succeeds (DeleteChangeSet models no not-found error).
    cloudformation.delete_change_set(ChangeSetName="cdk-deploy-change-set", StackName="first")
    with pytest.raises(ClientError) as err:
        cloudformation.create_change_set(StackName="second", ChangeSetName="cdk-deploy-change-set",
                                         ChangeSetType="UPDATE", TemplateBody=json.dumps(TEMPLATE))
    assert err.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_patched_execute_deletes_the_stacks_other_change_sets_and_refuses_a_spent_one(aws):
    cloudformation = _cloudformation()
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE))
    for name, extra in (("add-queue", "AWS::SQS::Queue"), ("add-topic", "AWS::SNS::Topic")):
        cloudformation.create_change_set(StackName="s", ChangeSetName=name, ChangeSetType="UPDATE", TemplateBody=(
            json.dumps({**TEMPLATE, "Resources": {**TEMPLATE["Resources"], "Extra": {"Type": extra}}})))
    cloudformation.execute_change_set(ChangeSetName="add-queue", StackName="s")
    assert [s["ChangeSetName"] for s in cloudformation.list_change_sets(StackName="s")["Summaries"]] == ["add-queue"]
    with pytest.raises(ClientError) as err:
        cloudformation.execute_change_set(ChangeSetName="add-queue", StackName="s")
    assert err.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    assert "EXECUTE_COMPLETE" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        cloudformation.execute_change_set(ChangeSetName="add-topic", StackName="s")
    assert err.value.response["Error"]["Code"] == "ChangeSetNotFound"


def test_patched_no_change_change_set_cannot_be_executed(aws):
    """A change set without changes FAILED ("The submitted information didn't contain changes", what `cdk deploy`
    reads as no changes); executing it is InvalidChangeSetStatus, not a no-op update."""
    cloudformation = _cloudformation()
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(TEMPLATE))
    cloudformation.create_change_set(StackName="s", ChangeSetName="same", ChangeSetType="UPDATE",
                                     TemplateBody=json.dumps(TEMPLATE))
    described = cloudformation.describe_change_set(ChangeSetName="same", StackName="s")
    assert described["Status"] == "FAILED"
    assert described["StatusReason"].startswith("The submitted information didn't contain changes.")
    with pytest.raises(ClientError) as err:
        cloudformation.execute_change_set(ChangeSetName="same", StackName="s")
    assert err.value.response["Error"]["Code"] == "InvalidChangeSetStatus"

