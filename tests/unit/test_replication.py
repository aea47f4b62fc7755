"""Replication: the plan per mode, the V2 rules, the role's exact scope, KMS wiring and validation."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mrap_constructs import (
    BucketReplication,
    ReplicationDestination,
    ReplicationMode,
    ReplicationOptions,
    replication_plan,
    replication_rules,
)
from tests.conftest import new_stack, regions


@pytest.mark.parametrize("n", [2, 3, 17])
def test_full_mesh_plans_n_times_n_minus_1_rules(n):
    plan = replication_plan(regions(n), ReplicationMode.FULL_MESH)
    assert sorted(plan) == sorted(regions(n))
    assert sum(len(d) for d in plan.values()) == n * (n - 1)
    assert all(src not in dsts and len(dsts) == n - 1 for src, dsts in plan.items())


@pytest.mark.parametrize("n", [2, 3, 17])
def test_one_way_plans_one_source_to_every_other(n):
    source = regions(n)[-1]
    plan = replication_plan(regions(n), "one-way", source)
    assert plan == {source: sorted(set(regions(n)) - {source})}


def test_one_way_defaults_to_the_first_region_and_none_plans_nothing():
    assert list(replication_plan(["eu-west-1", "us-east-1"], "one-way")) == ["eu-west-1"]
    assert replication_plan(regions(3), "none") == {}
    assert replication_plan(["us-east-1"], "full-mesh") == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((["us-east-1", "eu-west-1"], "star"), r"mode='star': use one of \['full-mesh', 'one-way', 'none'\]"),
        ((["us-east-1", "eu-west-1"], "one-way", "ap-south-1"), r"source_region='ap-south-1': must be one of"),
        ((["us-east-1", "eu-west-1"], "full-mesh", "us-east-1"), r"only applies to mode 'one-way'"),
        ((["us-east-1", "us-east-1"], "full-mesh"), r"list each Region once"),
    ],
)
def test_fails_on_inconsistent_plan(args, message):
    with pytest.raises(ValueError, match=message):
        replication_plan(*args)


def _dest(region, **kw):
    return ReplicationDestination(region=region, bucket_name=f"b-{region}", **kw)


def test_rules_are_v2_with_stable_ids_and_unique_priorities():
    rules = replication_rules([_dest("us-east-1"), _dest("ap-south-1"), _dest("eu-west-1")], ReplicationOptions())
    assert [r["ID"] for r in rules] == ["to-ap-south-1", "to-eu-west-1", "to-us-east-1"]
    assert [r["Priority"] for r in rules] == [1, 2, 3]
    rule = rules[0]
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["SourceSelectionCriteria"] == {"ReplicaModifications": {"Status": "Enabled"}}
    assert rule["Destination"] == {"Bucket": "arn:aws:s3:::b-ap-south-1",
                                   "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}


def test_rules_options_rtc_storage_class_filters_and_delete_markers_off():
    options = ReplicationOptions(rtc=True, storage_class="STANDARD_IA", prefix="data/", tags={"replicate": "yes"},
                                 delete_markers=False)
    rule = replication_rules([_dest("eu-west-1")], options)[0]
    assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert rule["Destination"]["StorageClass"] == "STANDARD_IA"
    assert rule["Filter"] == {"And": {"Prefix": "data/", "Tags": [{"Key": "replicate", "Value": "yes"}]}}
    assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
    assert replication_rules([_dest("eu-west-1")], ReplicationOptions(tags={"a": "b"}, delete_markers=False))[0][
        "Filter"] == {"Tag": {"Key": "a", "Value": "b"}}


def test_fails_tag_filter_with_delete_marker_replication():
    """S3 rejects a tag-filtered rule that replicates delete markers (botocore s3 model, shape
    ``DeleteMarkerReplication``; https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html):
    the rule builder and the construct refuse it, naming the field."""
    options = ReplicationOptions(tags={"a": "b"})
    with pytest.raises(ValueError, match=r"options.delete_markers=True: a rule that filters on tags cannot replicate"):
        replication_rules([_dest("eu-west-1")], options)
    with pytest.raises(ValueError, match=r"(?s)BucketReplication .R.*options.delete_markers=True"):
        BucketReplication(new_stack(), "R", source_bucket="b-us-east-1", destinations=[_dest("eu-west-1")],
                          options=options)


def test_rules_cross_account_owner_override_and_kms():
    rule = replication_rules(
        [_dest("eu-west-1", account="222222222222", replica_kms_key_arn="arn:aws:kms:eu-west-1:2:key/k")],
        ReplicationOptions(), source_account="111111111111", sse_kms=True)[0]
    assert rule["Destination"]["Account"] == "222222222222"
    assert rule["Destination"]["AccessControlTranslation"] == {"Owner": "Destination"}
    assert rule["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": "arn:aws:kms:eu-west-1:2:key/k"}
    assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"] == {"Status": "Enabled"}


@pytest.fixture(scope="module")
def replication_stack():
    stack = new_stack("us-east-1")
    source = s3.Bucket.from_bucket_name(stack, "Src", "b-us-east-1")
    replication = BucketReplication(stack, "Replication", source_bucket=source,
                                    destinations=[_dest("eu-west-1"), _dest("ap-southeast-2")])
    return stack, replication, Template.from_stack(stack)


def _policy_statements(template: Template, contains: str) -> list[dict]:
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        if contains in json.dumps(statements):
            return statements
    raise AssertionError(f"no managed policy mentions {contains}")


def test_role_trusted_by_s3_as_aws_documents_it(replication_stack):
    """AWS's replication trust policy has no Condition, and no AWS source says S3 sends ``aws:SourceArn`` /
    ``aws:SourceAccount`` when it assumes the role: a condition it does not satisfy would fail every replication
    silently (https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html)."""
    _, _, template = replication_stack
    roles = template.find_resources("AWS::IAM::Role", {"Properties": {"Description": Match.string_like_regexp(
        "^S3 replication")}})
    [role] = roles.values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}}]


def test_role_policy_is_scoped_to_exact_buckets(replication_stack):
    _, _, template = replication_stack
    statements = _policy_statements(template, "s3:ReplicateObject")
    resources = {s["Sid"]: s["Resource"] for s in statements}
    assert resources["ReadSourceConfiguration"] == "arn:aws:s3:::b-us-east-1"
    assert resources["ReadSourceObjectVersions"] == "arn:aws:s3:::b-us-east-1/*"
    assert resources["WriteReplicas"] == ["arn:aws:s3:::b-ap-southeast-2/*", "arn:aws:s3:::b-eu-west-1/*"]
    for statement in statements:
        assert statement["Resource"] != "*" and "*" not in statement["Action"]


def test_custom_resource_puts_then_deletes_configuration(replication_stack):
    stack, replication, template = replication_stack
    resource = next(iter(template.find_resources("Custom::S3BucketReplication").values()))
    create = json.loads(stack.resolve(resource["Properties"]["Create"])) if isinstance(
        resource["Properties"]["Create"], str) else resource["Properties"]["Create"]
    text = json.dumps(create)
    assert '\\"action\\":\\"PutBucketReplication\\"' in text and "to-eu-west-1" in text
    assert "DeleteBucketReplication" in json.dumps(resource["Properties"]["Delete"])
    assert len(replication.rules) == 2


def test_provider_has_least_privilege_and_pinned_runtime(replication_stack):
    _, _, template = replication_stack
    statements = _policy_statements(template, "s3:PutReplicationConfiguration")
    by_action = {json.dumps(s["Action"]): s["Resource"] for s in statements}
    assert by_action[json.dumps(["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration"])] == \
        "arn:aws:s3:::b-us-east-1"
    assert by_action['"iam:PassRole"'] == {"Fn::GetAtt": [Match.string_like_regexp("ReplicationRole"), "Arn"]} \
        or "ReplicationRole" in json.dumps(by_action['"iam:PassRole"'])
    function = next(iter(template.find_resources("AWS::Lambda::Function").values()))
    assert function["Properties"]["Runtime"].startswith("nodejs")
    assert "ManagedPolicyArns" not in template.find_resources("AWS::IAM::Role", {
        "Properties": {"AssumeRolePolicyDocument": {"Statement": [Match.object_like(
            {"Principal": {"Service": "lambda.amazonaws.com"}})]}}}).popitem()[1]["Properties"]


def test_no_destinations_removes_the_configuration():
    stack = new_stack()
    replication = BucketReplication(stack, "Replication", source_bucket=s3.Bucket.from_bucket_name(stack, "S", "b-x"),
                                    destinations=[])
    template = Template.from_stack(stack)
    resource = next(iter(template.find_resources("Custom::S3BucketReplication").values()))
    assert "DeleteBucketReplication" in json.dumps(resource["Properties"]["Create"])
    assert "PutBucketReplication" not in json.dumps(resource["Properties"])
    assert replication.role is None


def test_kms_statements_scoped_by_via_service_alias_and_context():
    stack = new_stack("us-east-1")
    BucketReplication(
        stack, "Replication", source_bucket=s3.Bucket.from_bucket_name(stack, "S", "b-us-east-1"),
        source_kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/abc",
        destinations=[_dest("eu-west-1", replica_kms_key_arn="arn:aws:kms:eu-west-1:111111111111:alias/b-mrap")])
    statements = {s["Sid"]: s for s in _policy_statements(Template.from_stack(stack), "kms:Decrypt")}
    decrypt = statements["DecryptSourceObjects"]
    assert decrypt["Resource"] == "arn:aws:kms:us-east-1:111111111111:key/abc"
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    encrypt = statements["EncryptReplicasEuwest1"]
    assert encrypt["Action"] == "kms:Encrypt"
    assert encrypt["Resource"] == "arn:aws:kms:eu-west-1:111111111111:key/*"
    assert encrypt["Condition"]["ForAnyValue:StringEquals"] == {"kms:ResourceAliases": "alias/b-mrap"}
    assert encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == [
        "arn:aws:s3:::b-eu-west-1", "arn:aws:s3:::b-eu-west-1/*"]


def test_shared_provider_role_collects_every_replication_in_a_stack():
    stack = new_stack()
    for name in ("a", "b"):
        BucketReplication(stack, f"R{name}", source_bucket=s3.Bucket.from_bucket_name(stack, f"S{name}", f"src-{name}"),
                          destinations=[_dest("eu-west-1")])
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    text = json.dumps(_policy_statements(template, "s3:PutReplicationConfiguration"))
    assert "arn:aws:s3:::src-a" in text and "arn:aws:s3:::src-b" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"destinations": [_dest("eu-west-1"), _dest("eu-west-1")]}, r"one destination per Region"),
        ({"destinations": [ReplicationDestination(region="eu-west-1", bucket_name="src-bucket")]},
         r"source and destination must differ"),
        ({"destinations": [_dest("eu-west-1", replica_kms_key_arn="arn:aws:kms:eu-west-1:1:key/k")]},
         r"KMS replication needs an SSE-KMS source"),
        ({"destinations": [_dest("eu-west-1")], "source_kms_key_arn": "arn:aws:kms:us-east-1:1:key/k"},
         r"an SSE-KMS source needs the destination's KMS key"),
        ({"destinations": [_dest("eu-west-1")], "options": ReplicationOptions(rtc=True, metrics=False)},
         r"Replication Time Control needs metrics=True"),
        ({"destinations": [_dest("eu-west-1")], "options": ReplicationOptions(storage_class="COLD")},
         r"options.storage_class='COLD'"),
        ({"destinations": [ReplicationDestination(region=f"r{i}", bucket_name=f"b{i}") for i in range(1001)]},
         r"at most 1000 rules"),
    ],
)
def test_fails_on_invalid_replication(kwargs, message):
    stack = new_stack()
    with pytest.raises(ValueError, match=message):
        BucketReplication(stack, "R", source_bucket=s3.Bucket.from_bucket_name(stack, "S", "src-bucket"), **kwargs)


def test_source_bucket_by_name_renders_like_an_imported_bucket():
    # A name needs no imported-bucket construct; the role, its policy and the SDK calls must not change.
    rendered = []
    for source in ("name", "bucket"):
        stack = new_stack("eu-west-1")
        bucket = "b-eu-west-1" if source == "name" else s3.Bucket.from_bucket_name(stack, "S", "b-eu-west-1")
        BucketReplication(stack, "Replication", source_bucket=bucket, destinations=[_dest("us-east-1")])
        resources = Template.from_stack(stack).to_json()["Resources"]
        rendered.append({k: r for k, r in resources.items() if r["Type"] != "AWS::Lambda::Function"})
    by_name, by_bucket = rendered
    assert by_name == by_bucket
    assert '"Resource": "arn:aws:s3:::b-eu-west-1"' in json.dumps(by_name)
