"""Each moto patch: moto still behaves as the patch assumes (fails when an upgrade fixes it), and the patch works."""

from __future__ import annotations

import inspect

import pytest
from moto import mock_aws

from mrap_constructs import _policy_facts
from mrap_constructs.testing import moto_patches
from tests.ops.conftest import ACCOUNT, BUCKETS, SESSION


def test_moto_still_reports_every_mrap_bucket_in_us_east_1(mrap, moto_patched):
    """If this fails, moto fixed MRAP bucket Regions: drop moto_patches._mrap_bucket_regions."""
    from moto.s3control.models import s3control_backends

    backend = s3control_backends[ACCOUNT]["aws"]
    original = moto_patched["create_multi_region_access_point"]
    original(backend, ACCOUNT, "unpatched", {}, [{"Bucket": BUCKETS["eu-west-1"]}], "us-west-2")
    regions = backend.multi_region_access_points[ACCOUNT]["unpatched"].regions
    assert regions == [{"Bucket": BUCKETS["eu-west-1"], "Region": "us-east-1"}]


def test_patched_mrap_reports_each_bucket_region(mrap):
    point = SESSION.client("s3control", region_name="us-west-2").get_multi_region_access_point(
        AccountId=ACCOUNT, Name=mrap)["AccessPoint"]
    assert {r["Region"]: r["Bucket"] for r in point["Regions"]} == BUCKETS


#: AWS's MRAP alias: lowercase letters and digits, then ``.mrap`` (S3 User Guide, "Rules for naming Amazon S3
#: Multi-Region Access Points": "a unique alphanumeric string that ends in .mrap"; its example ``mfzwi23gnjvgw.mrap``
#: in "Making requests through a Multi-Region Access Point" has 13 characters).
AWS_ALIAS = r"[a-z0-9]{13}\.mrap"


def test_moto_still_builds_the_alias_from_the_name(mrap):
    """If this fails, moto's alias changed shape: check moto_patches.mrap_alias is still needed."""
    from moto.s3control.models import MultiRegionAccessPoint

    assert MultiRegionAccessPoint("media", {}, []).alias.startswith("media-")


def test_patched_aliases_have_aws_shape_and_are_never_reused(mrap):
    import re

    control = SESSION.client("s3control", region_name="us-west-2")
    name = "n" * 50  # the longest name AWS accepts (MultiRegionAccessPointRestrictions: 3-50 characters)
    aliases = []
    for _ in range(2):
        control.create_multi_region_access_point(AccountId=ACCOUNT, ClientToken=str(len(aliases)), Details={
            "Name": name, "Regions": [{"Bucket": BUCKETS["eu-west-1"]}]})
        aliases.append(control.get_multi_region_access_point(AccountId=ACCOUNT, Name=name)["AccessPoint"]["Alias"])
        control.delete_multi_region_access_point(AccountId=ACCOUNT, ClientToken=f"d{len(aliases)}",
                                                 Details={"Name": name})
    assert all(re.fullmatch(AWS_ALIAS, alias) for alias in aliases), aliases
    assert aliases[0] != aliases[1] and name not in aliases[0]
    assert aliases[0] == moto_patches.mrap_alias(ACCOUNT, name, 1)  # reproducible from run to run


def test_moto_still_skips_mrap_resources_in_cloudformation(moto_patched):
    """If this fails, moto models one of these types in CloudFormation: drop that model from cfn_models.MODELS."""
    original = moto_patched["resource_class_from_type"]
    for kind in ("AWS::S3::MultiRegionAccessPoint", "AWS::S3::MultiRegionAccessPointPolicy", "AWS::S3::BucketPolicy",
                 "AWS::CloudWatch::Alarm", "AWS::CloudTrail::Trail", "AWS::SNS::TopicPolicy"):
        assert original(kind) is None, kind


def test_patched_types_map_to_the_emulator_models(emulator_patches):
    from moto.cloudformation import parsing

    from mrap_constructs.testing import cfn_models

    mrap_model = parsing.resource_class_from_type("AWS::S3::MultiRegionAccessPoint")
    custom = parsing.resource_class_from_type("Custom::S3BucketReplication")
    assert issubclass(mrap_model, cfn_models.MultiRegionAccessPointModel)
    assert issubclass(custom, cfn_models.EmulatedCustomResource)
    assert mrap_model.state is custom.state is emulator_patches.state, "the models act on the installation's state"
    assert parsing.resource_class_from_type("AWS::S3::Bucket") is not None


def test_moto_still_ignores_versioning_in_bucket_templates(aws, moto_patched):
    """If this fails, moto applies VersioningConfiguration itself: drop _bucket_versioning_from_template."""
    from moto.s3.models import FakeBucket, s3_backends

    original = moto_patched["bucket_create_from_cloudformation_json"]
    original(FakeBucket, "plain-bucket", {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}},
             ACCOUNT, "us-east-1", LogicalId="B", StackId="s", ResourceType="AWS::S3::Bucket")
    assert s3_backends[ACCOUNT]["aws"].get_bucket_versioning("plain-bucket") is None
    FakeBucket.create_from_cloudformation_json("patched-bucket", {"Properties": {
        "VersioningConfiguration": {"Status": "Enabled"}}}, ACCOUNT, "us-east-1")
    assert s3_backends[ACCOUNT]["aws"].get_bucket_versioning("patched-bucket") == "Enabled"


TLS_AND_DELEGATION = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}}]}


def test_moto_still_denies_on_unmatched_conditions(aws, moto_patched):
    """If this fails, moto evaluates bucket-policy conditions itself: drop _bucket_policy_conditions."""
    import json

    from moto.iam.access_control import PermissionResult
    from moto.s3.models import s3_backends

    SESSION.client("s3", region_name="us-east-1").create_bucket(Bucket="bbb")
    bucket = s3_backends[ACCOUNT]["aws"].buckets["bbb"]
    bucket.policy = json.dumps(TLS_AND_DELEGATION).encode()
    original = moto_patched["bucket_get_permission"]
    assert original(bucket, "s3:PutObject", "arn:aws:s3:::b/k") == PermissionResult.DENIED
    assert bucket.get_permission("s3:PutObject", "arn:aws:s3:::b/k") == PermissionResult.NEUTRAL
    assert bucket.get_permission("s3:GetObject", "arn:aws:s3:::b/k") == PermissionResult.NEUTRAL


def test_condition_holds_follows_iam_semantics():
    context = {"aws:SecureTransport": "true"}
    assert _policy_facts.condition_holds({}, context)
    assert not _policy_facts.condition_holds({"Bool": {"aws:SecureTransport": "false"}}, context)
    assert _policy_facts.condition_holds({"Bool": {"aws:SecureTransport": "true"}}, context)
    assert not _policy_facts.condition_holds({"StringEquals": {"s3:DataAccessPointAccount": "1"}}, context)
    assert _policy_facts.condition_holds({"StringEqualsIfExists": {"s3:DataAccessPointAccount": "1"}}, context)
    assert _policy_facts.condition_holds({"StringLike": {"aws:SecureTransport": "t*"}}, context)
    assert not _policy_facts.condition_holds({"NumericLessThan": {"aws:SecureTransport": "1"}}, context)
    assert _policy_facts.condition_holds({"StringNotEquals": {"aws:SourceVpce": ["vpce-1"]}}, context)
    assert not _policy_facts.condition_holds({"StringNotLike": {"aws:SecureTransport": "t*"}}, context)


def test_moto_managed_policy_still_has_no_delete(moto_patched):
    """If this fails, moto deletes managed policies with their stack: drop _managed_policy_delete."""
    assert moto_patched["managed_policy_delete"] is None


def test_patched_managed_policy_delete_detaches_first(aws):
    from moto.iam.models import iam_backends

    iam = SESSION.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    document = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    arn = iam.create_policy(PolicyName="p", PolicyDocument=document)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    backend = iam_backends[ACCOUNT]["aws"]
    backend.managed_policies[arn].delete(ACCOUNT, "us-east-1")
    assert arn not in backend.managed_policies
    iam.delete_role(RoleName="r")  # no longer "must detach all policies first"


def test_moto_still_hard_codes_delete_marker_replication(mrap, moto_patched):
    """If this fails, moto round-trips replication rules: drop _replication_round_trip."""
    from moto.s3.responses import S3Response

    source = inspect.getsource(moto_patched["get_bucket_replication"]).replace("'", '"')
    assert '"DeleteMarkerReplication": {"Status": "Disabled"}' in source
    assert S3Response.get_bucket_replication is not moto_patched["get_bucket_replication"]


def test_patched_replication_round_trips_delete_markers(mrap):
    s3 = SESSION.client("s3", region_name="us-east-1")
    s3.put_bucket_replication(Bucket=BUCKETS["us-east-1"], ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/r", "Rules": [{
            "ID": "to-eu-west-1", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "data/"},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{BUCKETS['eu-west-1']}"}}]})
    rule = s3.get_bucket_replication(Bucket=BUCKETS["us-east-1"])["ReplicationConfiguration"]["Rules"][0]
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["Filter"] == {"Prefix": "data/"}


def test_moto_still_keeps_non_empty_buckets_silently(aws, moto_patched):
    """If this fails, moto fails non-empty bucket deletes itself: drop _bucket_delete_not_empty."""
    from moto.s3.exceptions import BucketNotEmpty
    from moto.s3.models import FakeBucket, s3_backends

    s3 = SESSION.client("s3", region_name="us-east-1")
    for name in ("full-a", "full-b"):
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"x")
    moto_patched["bucket_delete_from_cloudformation_json"](FakeBucket, "full-a", {}, ACCOUNT, "us-east-1")
    assert "full-a" in s3_backends[ACCOUNT]["aws"].buckets
    with pytest.raises(BucketNotEmpty):
        FakeBucket.delete_from_cloudformation_json("full-b", {}, ACCOUNT, "us-east-1")


def test_moto_still_drops_vpc_endpoint_tags(aws, moto_patched):
    """If this fails, moto tags VPC endpoints from templates: drop _vpc_endpoint_tags."""
    from moto.ec2.models.vpcs import VPCEndPoint

    ec2 = SESSION.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    properties = {"Properties": {"VpcId": vpc, "ServiceName": "com.amazonaws.s3-global.accesspoint",
                                 "VpcEndpointType": "Interface", "Tags": [{"Key": "mrap:name", "Value": "m"}]}}
    plain = moto_patched["vpc_endpoint_create_from_cloudformation_json"](
        VPCEndPoint, "e", properties, ACCOUNT, "us-east-1")
    assert plain.get_tags() == []
    tagged = VPCEndPoint.create_from_cloudformation_json("e2", properties, ACCOUNT, "us-east-1")
    assert {"Key": "mrap:name", "Value": "m"} in [{"Key": t["key"], "Value": t["value"]} for t in tagged.get_tags()]


def test_installation_is_undone_on_exit_and_nests_without_wrapping_twice():
    """``patches.installed`` restores every moto attribute it replaced; a nested installation installs over moto's
    own functions (the originals it records are moto's, not the outer corrections), and its exit brings the outer
    corrections back."""
    from moto.s3.models import S3Backend

    from mrap_constructs.testing import patches

    base, current = patches.active(), S3Backend.put_bucket_replication  # a session emulator's, or moto's own
    moto_own = base.originals["s3_put_bucket_replication"] if base else current
    with patches.installed() as outer:
        outer_patched = S3Backend.put_bucket_replication
        assert outer_patched is not moto_own and outer.originals["s3_put_bucket_replication"] is moto_own
        with patches.installed() as inner:
            assert patches.active() is inner and inner.outer is outer
            assert inner.originals["s3_put_bucket_replication"] is moto_own
            assert S3Backend.put_bucket_replication not in (moto_own, outer_patched)
        assert S3Backend.put_bucket_replication is outer_patched and patches.active() is outer
    assert S3Backend.put_bucket_replication is current and patches.active() is base
BOOTSTRAP_PATH = "/cdk-bootstrap/hnb659fds/version"
CDK_LIKE_TEMPLATE = {"Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                                         "Default": BOOTSTRAP_PATH}},
                     "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def _cdk_like_stack() -> object:
    """A stack created as the CDK CLI creates one: BootstrapVersion not passed, so it takes its SSM default."""
    import json

    SESSION.client("ssm", region_name="us-east-1").put_parameter(Name=BOOTSTRAP_PATH, Value="21", Type="String")
    SESSION.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="cdk-like", TemplateBody=json.dumps(CDK_LIKE_TEMPLATE))
    from moto.cloudformation.models import cloudformation_backends

    return cloudformation_backends[ACCOUNT]["us-east-1"]


def test_moto_still_loses_defaulted_parameters_on_update(aws, moto_patched):
    """If this fails, moto resolves a defaulted UsePreviousValue parameter: drop _update_previous_parameter_values."""
    backend = _cdk_like_stack()
    stack = backend.get_stack("cdk-like")
    with pytest.raises(KeyError, match="BootstrapVersion"):
        moto_patched["resolve_update_parameters"](
            backend, instance=stack, incoming_params=[{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}])


def test_patched_update_reuses_the_default_and_resolves_it_again(aws):
    import json

    _cdk_like_stack()
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    template = {**CDK_LIKE_TEMPLATE, "Resources": {**CDK_LIKE_TEMPLATE["Resources"],
                                                   "Second": {"Type": "AWS::SNS::Topic"}}}
    previous = [{"ParameterKey": "BootstrapVersion", "UsePreviousValue": True}]  # what the CDK CLI sends
    cloudformation.update_stack(StackName="cdk-like", TemplateBody=json.dumps(template), Parameters=previous)
    stack = cloudformation.describe_stacks(StackName="cdk-like")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "BootstrapVersion", "ParameterValue": "21"}]
    # Twice: the second update's previous value is the first update's (the SSM name, not the resolved "21").
    cloudformation.update_stack(StackName="cdk-like", TemplateBody=json.dumps(CDK_LIKE_TEMPLATE), Parameters=previous)
    assert len(SESSION.client("sns", region_name="us-east-1").list_topics()["Topics"]) == 1


def _two_topics(retain: str | None) -> str:
    import json

    kept = {"Type": "AWS::SNS::Topic", **({"DeletionPolicy": retain} if retain else {})}
    return json.dumps({"Resources": {"Kept": kept, "Other": {"Type": "AWS::SNS::Topic"}}})


@pytest.mark.parametrize("patched", [False, True])
def test_update_removing_a_retained_resource(aws, monkeypatch, patched, moto_patched):
    """If the unpatched case fails, moto honours DeletionPolicy on update: drop _update_removed_resources."""
    import json

    from moto.cloudformation.parsing import ResourceMap

    if not patched:
        monkeypatch.setattr(ResourceMap, "_delete_resource", moto_patched["resource_map_delete_resource"])
        monkeypatch.setattr(ResourceMap, "update", moto_patched["resource_map_update"])
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    sns = SESSION.client("sns", region_name="us-east-1")
    cloudformation.create_stack(StackName="retain", TemplateBody=_two_topics("Retain"))
    cloudformation.update_stack(StackName="retain", TemplateBody=json.dumps(
        {"Resources": {"Other": {"Type": "AWS::SNS::Topic"}}}))
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert len(topics) == (2 if patched else 1), "the removed Retain topic is kept only with the patch"


@pytest.mark.parametrize("patched", [False, True])
def test_update_adding_back_a_removed_resource(aws, monkeypatch, patched, moto_patched):
    """If the unpatched case fails, moto forgets removed resources itself: drop half of _update_removed_resources."""
    from moto.cloudformation.parsing import ResourceMap

    if not patched:
        monkeypatch.setattr(ResourceMap, "_delete_resource", moto_patched["resource_map_delete_resource"])
        monkeypatch.setattr(ResourceMap, "update", moto_patched["resource_map_update"])
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    sns = SESSION.client("sns", region_name="us-east-1")
    cloudformation.create_stack(StackName="readd", TemplateBody=_two_topics(None))
    cloudformation.update_stack(StackName="readd", TemplateBody='{"Resources": {"Other": {"Type": "AWS::SNS::Topic"}}}')
    cloudformation.update_stack(StackName="readd", TemplateBody=_two_topics(None))
    assert len(sns.list_topics()["Topics"]) == (2 if patched else 1), "re-added only with the patch"


def _failing_update(monkeypatch) -> list[tuple[str, dict]]:
    """A stack with a custom resource whose handler fails for Size=bad, updated to Size=bad plus a new topic."""
    import json

    from mrap_constructs.testing import cfn_models

    seen: list[tuple[str, dict]] = []

    def handle(state, resource_type, request_type, properties, *args, **kwargs):
        seen.append((request_type, properties))
        if properties.get("Size") == "bad":
            raise RuntimeError("handler failed")
        return "thing", {}

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    custom = {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f"}}
    before = {"Resources": {"Thing": {**custom, "Properties": {**custom["Properties"], "Size": "1"}}}}
    after = {"Resources": {"Thing": {**custom, "Properties": {**custom["Properties"], "Size": "bad"}},
                           "Added": {"Type": "AWS::SNS::Topic"}}}
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="fails", TemplateBody=json.dumps(before))
    seen.append(("--", {"before": before, "after": after}))
    return seen


def test_moto_still_leaves_a_failed_update_half_applied(aws, monkeypatch, moto_patched):
    """If this fails, moto rolls back failed updates: drop _update_rolls_back."""
    import json

    from moto.cloudformation.models import cloudformation_backends

    seen = _failing_update(monkeypatch)
    after = seen[-1][1]["after"]
    stack = cloudformation_backends[ACCOUNT]["us-east-1"].get_stack("fails")
    with pytest.raises(RuntimeError, match="handler failed"):
        moto_patched["stack_update"](stack, json.dumps(after))
    assert json.loads(stack.template) == after and stack.status == "CREATE_COMPLETE", "new template, no rollback"
    assert len(SESSION.client("sns", region_name="us-east-1").list_topics()["Topics"]) == 1, "the added topic stays"


def test_patched_failed_update_rolls_back_to_the_previous_template(aws, monkeypatch):
    import json

    seen = _failing_update(monkeypatch)
    before, after = seen[-1][1]["before"], seen[-1][1]["after"]
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.update_stack(StackName="fails", TemplateBody=json.dumps(after))
    stack = cloudformation.describe_stacks(StackName="fails")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "handler failed" in stack["StackStatusReason"]
    assert dict(cloudformation.get_template(StackName="fails")["TemplateBody"]) == before
    assert SESSION.client("sns", region_name="us-east-1").list_topics()["Topics"] == [], "the added topic is gone"
    assert seen[-1] == ("Update", before["Resources"]["Thing"]["Properties"]), "rolled back to the old properties"
    # The stack can be updated again (UPDATE_ROLLBACK_COMPLETE is not ROLLBACK_COMPLETE).
    fixed = {"Resources": {**after["Resources"], "Thing": before["Resources"]["Thing"]}}
    cloudformation.update_stack(StackName="fails", TemplateBody=json.dumps(fixed))
    assert cloudformation.describe_stacks(StackName="fails")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_moto_still_has_no_routes_api(moto_patched):
    """If this fails, moto serves the MRAP routes API: drop _mrap_routes_api (and EmulatorState.routes)."""
    assert moto_patched["get_multi_region_access_point_routes"] is None
    assert moto_patched["routes_path_handler"] is None


def test_patched_routes_api_keeps_dials_per_mrap(mrap, emulator_patches):
    from mrap_constructs.ops.client import MrapClient

    client = MrapClient(ACCOUNT, session=SESSION, sleep=lambda _: None)
    info = client.describe(mrap)
    assert [(r.region, r.dial) for r in client.routes(info)] == [("eu-west-1", 100), ("us-east-1", 100)]
    client.submit_routes(info, {"eu-west-1": 0})
    assert [(r.region, r.bucket, r.dial) for r in client.routes(info)] == [
        ("eu-west-1", BUCKETS["eu-west-1"], 0), ("us-east-1", BUCKETS["us-east-1"], 100)]
    routes = client.routes_client(info.regions)
    with pytest.raises(routes.exceptions.ClientError, match="InvalidRequest.*not a bucket or Region"):
        routes.submit_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=info.arn, RouteUpdates=[
            {"Region": "ap-southeast-2", "TrafficDialPercentage": 0}])
    with pytest.raises(routes.exceptions.ClientError, match="0 or 100"):
        routes.submit_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=info.arn, RouteUpdates=[
            {"Bucket": BUCKETS["us-east-1"], "TrafficDialPercentage": 50}])
    with pytest.raises(routes.exceptions.ClientError, match="NoSuchMultiRegionAccessPoint"):
        routes.get_multi_region_access_point_routes(AccountId=ACCOUNT, Mrap=f"arn:aws:s3::{ACCOUNT}:accesspoint/x.mrap")
    assert emulator_patches.state.routes == {info.arn: {"eu-west-1": 0, "us-east-1": 100}}, "kept in the state"


def _failing_create(monkeypatch) -> dict:
    """A template with a topic and a custom resource whose handler fails."""
    from mrap_constructs.testing import cfn_models

    def handle(*args, **kwargs):
        raise RuntimeError("handler failed")

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    return {"Resources": {
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Kept": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain", "Properties": {"TopicName": "kept"}},
        "Thing": {"Type": "Custom::Thing", "DependsOn": ["Topic", "Kept"],
                  "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f"}}}}


def test_moto_still_fails_the_create_request_on_a_resource_failure(aws, monkeypatch, moto_patched):
    """If this fails, moto fails stacks instead of requests on a resource failure: drop _create_rolls_back."""
    import json

    from moto.cloudformation.models import Stack

    template = _failing_create(monkeypatch)
    monkeypatch.setattr(Stack, "create_resources", moto_patched["stack_create_resources"])
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    with pytest.raises(Exception):  # noqa: B017 - moto answers HTTP 500; the exact botocore error varies
        cloudformation.create_stack(StackName="fails", TemplateBody=json.dumps(template))


def test_patched_failed_create_rolls_back_keeping_retained_resources(aws, monkeypatch):
    import json

    template = _failing_create(monkeypatch)
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="fails", TemplateBody=json.dumps(template))
    stack = cloudformation.describe_stacks(StackName="fails")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert stack["StackStatusReason"] == "RuntimeError: handler failed"
    events = cloudformation.describe_stack_events(StackName="fails")["StackEvents"]
    assert {"CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"} <= {e["ResourceStatus"] for e in events}
    topics = [t["TopicArn"].rsplit(":", 1)[-1] for t in SESSION.client("sns", region_name="us-east-1").list_topics()[
        "Topics"]]
    assert topics == ["kept"], "the created topic is deleted, the retained one stays"


_KEY_TEMPLATE = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                            "Action": "kms:*", "Resource": "*"}]}}}}}


def test_moto_still_stores_a_template_key_policy_as_an_object(moto_patched):
    """If this fails, moto stores a stack's key policy as JSON: drop _key_policy_from_template."""
    from moto.kms.models import Key

    original = moto_patched["kms_key_create_from_cloudformation_json"]
    with mock_aws():
        key = original(Key, "Key", _KEY_TEMPLATE["Resources"]["Key"], ACCOUNT, "us-east-1")
    assert isinstance(key.policy, dict)


def test_patched_template_key_policy_reads_back(aws):
    import json

    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="key", TemplateBody=json.dumps(_KEY_TEMPLATE))
    kms = SESSION.client("kms", region_name="us-east-1")
    key_id = kms.list_keys()["Keys"][0]["KeyId"]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy == _KEY_TEMPLATE["Resources"]["Key"]["Properties"]["KeyPolicy"]
