"""The day-2 findings, each as a specification: no config change loses data, silently drops replication or a
restriction, or leaves a stack stuck (issue 26)."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from mrap_constructs.handlers.routes import dials_to_submit, mrap_replaced
from mrap_constructs.lock import LockEntry, ReplacementError, write_entry
from stacks.app_builder import MrapDeployment
from stacks.config import ConfigError, parse_config
from stacks.day2 import check, guard
from tests.conftest import ACCOUNT, FEATURE_FLAGS
from tests.unit.test_day2_matrix import BASE

_CACHE: dict[str, MrapDeployment] = {}


def _build(raw: dict, **overrides) -> MrapDeployment:
    key = json.dumps([raw, overrides], sort_keys=True)
    if key not in _CACHE:
        app = cdk.App(context=FEATURE_FLAGS)
        _CACHE[key] = MrapDeployment(app, "set", config=parse_config(raw), overrides=overrides or None)
        app.synth()
    return _CACHE[key]


# Finding 1: https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html — a deleted key makes every
# object encrypted under it unreadable for good, so a key is never deleted by a config change or a stack deletion.
def test_bucket_keys_are_retained_even_with_removal_policy_destroy():
    deployment = _build({**BASE, "removal_policy": "destroy"})
    template = Template.from_stack(deployment.bucket_stacks["eu-west-1"])
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})  # the user's choice for the buckets


# Finding 4 / blue-green: the replaced MRAP is kept (its clients keep working until they move).
def test_the_mrap_is_kept_on_replacement_whatever_the_removal_policy():
    deployment = _build({**BASE, "removal_policy": "destroy"})
    template = Template.from_stack(deployment.access_point_stack)
    template.has_resource("AWS::S3::MultiRegionAccessPoint", {"DeletionPolicy": "Delete",
                                                              "UpdateReplacePolicy": "Retain"})


def test_access_point_name_renames_the_mrap_and_its_lookups_not_the_stacks():
    deployment = _build({**BASE, "access_point_name": "media-v2", "privatelink": {
        **BASE["privatelink"], "restrict_to_endpoints": True}})
    assert [s.stack_name for s in deployment.stacks] == [s.stack_name for s in _build(BASE).stacks] + [
        "media-access-point-policy"]
    Template.from_stack(deployment.access_point_stack).has_resource_properties(
        "AWS::S3::MultiRegionAccessPoint", {"Name": "media-v2"})
    for stack in (deployment.endpoint_stacks["eu-west-1"], deployment.policy_stack):
        Template.from_stack(stack).has_resource_properties("Custom::MrapAliasLookup", {
            "Update": Match.string_like_regexp('"Name":"media-v2"')})
    # The trail and dashboard keep the set's name (a renamed trail would be replaced).
    assert deployment.dashboard_name == "mrap-media"


# Finding 6: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-multiregionaccesspointpolicy.html
# — deleting the resource resets the MRAP policy; every owner's policy resource is Retain.
@pytest.mark.parametrize("patch", [{}, {"privatelink": {**BASE["privatelink"], "restrict_to_endpoints": True}},
                                   {"cloudfront": {"enabled": True}}], ids=["access-point", "policy", "cloudfront"])
def test_every_mrap_policy_resource_is_retained(patch):
    deployment = _build({**BASE, **patch})
    owners = [s for s in deployment.stacks
              if Template.from_stack(s).find_resources("AWS::S3::MultiRegionAccessPointPolicy")]
    assert len(owners) == 1, "one owner of the MRAP policy"
    Template.from_stack(owners[0]).has_resource("AWS::S3::MultiRegionAccessPointPolicy",
                                                {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


def test_restrict_on_off_on_rewrites_the_policy_each_time():
    restricted = {**BASE, "privatelink": {**BASE["privatelink"], "restrict_to_endpoints": True}}
    on = check(parse_config(BASE), parse_config(restricted), {"policy_owner": "access-point", "policy_generation": 0})
    assert on.props["policy_generation"] == 1 and any("moves from the access-point stack" in n for n in on.notes)
    off = check(parse_config(restricted), parse_config(BASE), on.state)
    assert off.props["policy_generation"] == 2
    assert any("delete-stack --region us-west-2 --stack-name media-access-point-policy" in n for n in off.notes)
    again = check(parse_config(BASE), parse_config(restricted), off.state)
    assert again.props["policy_generation"] == 3
    # The wave-4 template differs from the one deployed the first time (generation 1): CDK does not skip it.
    first = Template.from_stack(_build(restricted, policy_generation=1).policy_stack).to_json()
    third = Template.from_stack(_build(restricted, policy_generation=3).policy_stack).to_json()
    assert first != third
    assert "AllowOwningAccountPrincipalsG3" in json.dumps(third)
    unchanged = check(parse_config(restricted), parse_config(restricted), again.state)
    assert unchanged.props["policy_generation"] == 3 and not unchanged.notes


# Finding 5: https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html — SSE-KMS
# objects replicate only when a rule selects them: the rules come first, the buckets' default encryption second.
def test_switching_to_sse_kms_selects_kms_objects_before_any_bucket_encrypts_with_kms():
    sse_s3 = {**BASE, "encryption": "sse-s3"}
    step1 = check(parse_config(sse_s3), parse_config(BASE), {})
    assert step1.props["kms_default_encryption"] is False and any("deploy 1 of 2" in n for n in step1.notes)
    deployment = _build(BASE, **step1.props)
    bucket = Template.from_stack(deployment.bucket_stacks["eu-west-1"])
    bucket.resource_count_is("AWS::KMS::Key", 1)
    bucket.has_resource_properties("AWS::S3::Bucket", {"BucketEncryption": {"ServerSideEncryptionConfiguration": [
        Match.object_like({"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})]}})
    Template.from_stack(deployment.replication_stacks["us-east-1"]).has_resource_properties(
        "Custom::S3BucketReplication", {"Rules": Match.array_with([Match.object_like({
            "SourceSelectionCriteria": Match.object_like({"SseKmsEncryptedObjects": {"Status": "Enabled"}})})])})
    step2 = check(parse_config(BASE), parse_config(BASE), step1.state)
    assert step2.props["kms_default_encryption"] is True and not step2.notes
    Template.from_stack(_build(BASE, **step2.props).bucket_stacks["eu-west-1"]).has_resource_properties(
        "AWS::S3::Bucket", {"BucketEncryption": {"ServerSideEncryptionConfiguration": [Match.object_like(
            {"ServerSideEncryptionByDefault": Match.object_like({"SSEAlgorithm": "aws:kms"})})]}})


# Finding 7: one-way from us-east-1 with eu-west-1 the only active Region: its writes never replicate.
def test_one_way_with_an_active_region_other_than_the_source_is_refused_unless_acknowledged():
    raw = {**BASE, "replication": {"mode": "one-way", "source_region": "us-east-1"},
           "failover": {"active": ["eu-west-1"]}}
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    (line,) = [p for p in err.value.problems if "never replicated" in p]
    assert "failover.active=['eu-west-1']" in line and "replication.source_region" in line
    assert "failover.accept_unreplicated_writes: true" in line
    parse_config({**raw, "failover": {"active": ["eu-west-1"], "accept_unreplicated_writes": True}})
    parse_config({**raw, "failover": {"active": ["us-east-1"]}})  # the source active: fine


# Findings 2 and 3: a bucket rename is refused, naming the consequence and the safe path.
def test_a_bucket_rename_is_refused_with_the_safe_path():
    verdict = check(parse_config(BASE), parse_config({**BASE, "bucket_prefix": "media-new"}))
    (problem,) = verdict.problems
    assert problem.startswith("bucket_prefix: None -> 'media-new' is refused for a deployed set: BucketName: "
                              "Replacement")
    assert "DeleteBucketReplication" not in problem and "replication configuration and policy" in problem
    assert "Safe path: deploy a separate set" in problem
    # Writing the default out is no change.
    assert not check(parse_config(BASE), parse_config({**BASE, "bucket_prefix": "media"})).problems


# Finding 8: what a feature turned off leaves behind is printed with its delete command.
def test_features_turned_off_print_what_they_leave_behind():
    on = {**BASE, "monitoring": {"cloudtrail": True}, "cloudfront": {"enabled": True}}
    notes = " ".join(check(parse_config(on), parse_config(BASE)).notes)
    assert "aws cloudformation delete-stack --region us-east-1 --stack-name media-cloudfront" in notes
    assert "monitoring.cloudtrail: off" in notes and "starts_with(LogicalResourceId, 'Trail')" in notes
    moved = {**BASE, "privatelink": {"regions": ["ap-southeast-2"]}}
    assert any("delete-stack --region eu-west-1 --stack-name media-privatelink-eu-west-1" in n
               for n in check(parse_config(BASE), parse_config(moved)).notes)


# Finding 9: the guard knows what is deployed.
def test_a_set_known_deployed_without_an_entry_is_an_error_naming_the_adopt_command(tmp_path):
    outputs = tmp_path / "cdk-outputs.json"
    outputs.write_text(json.dumps({"media-access-point": {"MrapArn": f"arn:aws:s3::{ACCOUNT}:accesspoint/x.mrap"}}))
    with pytest.raises(ReplacementError) as err:
        guard(parse_config(BASE), entries={}, lock_path=tmp_path / "renamed.lock.json", account=ACCOUNT,
              outputs_file=outputs, config_file="renamed.json")
    text = "\n".join(err.value.problems)
    assert "shows the set deployed (stack media-access-point" in text
    assert "`npx cdk synth -c config=renamed.json -c mrap_lock=adopt`" in text
    # Another account's outputs are no evidence for this one.
    assert guard(parse_config(BASE), entries={}, lock_path=tmp_path / "x.lock.json", account="222222222222",
                 outputs_file=outputs).entry is None


def test_a_renamed_set_is_refused_against_the_lock(tmp_path):
    path = tmp_path / "mrap.lock.json"
    write_entry(path, LockEntry(f"{ACCOUNT}/media", {"Name": "media"}, parse_config(BASE).model_dump(mode="json")))
    from mrap_constructs.lock import read_lock

    with pytest.raises(ReplacementError, match="name: 'media' -> 'media2' is refused"):
        guard(parse_config({**BASE, "name": "media2"}), entries=read_lock(path), lock_path=path, account=ACCOUNT)
    deployed = guard(parse_config(BASE), entries=read_lock(path), lock_path=path, account=ACCOUNT)
    assert deployed.deployed == parse_config(BASE) and not deployed.verdict.problems


def test_pipeline_mode_enforces_the_lock_per_account(tmp_path):
    path = tmp_path / "mrap.lock.json"
    write_entry(path, LockEntry(f"{ACCOUNT}/media", {"Name": "media"}, parse_config(BASE).model_dump(mode="json")))
    from mrap_constructs.lock import read_lock

    changed = parse_config({**BASE, "bucket_prefix": "other"})
    with pytest.raises(ReplacementError, match="bucket_prefix"):
        guard(changed, entries=read_lock(path), lock_path=path, account=ACCOUNT, pipeline=True)
    assert guard(changed, entries=read_lock(path), lock_path=path, account="222222222222", pipeline=True).entry is None


def test_the_routes_handler_recognises_a_replaced_mrap_by_its_alias():
    goal = {"us-east-1": "100", "eu-west-1": "0"}
    props = {"MrapName": "media", "MrapAlias": "new.mrap", "Dials": goal}
    # Same name, new alias: replaced, so every dial is submitted again (the new MRAP starts all active).
    assert mrap_replaced(props, {"MrapName": "media", "MrapAlias": "old.mrap", "Dials": goal})
    assert dials_to_submit("Update", props, {"MrapName": "media", "MrapAlias": "old.mrap", "Dials": goal}) == {
        "us-east-1": 100, "eu-west-1": 0}
    assert dials_to_submit("Update", props, {"MrapName": "media", "MrapAlias": "new.mrap", "Dials": goal}) == {}
    assert not mrap_replaced(props, {"MrapName": "media", "Dials": goal}), "an older resource: compared by name"


def test_the_routes_resource_gets_the_alias():
    Template.from_stack(_build(BASE).access_point_stack).has_resource_properties("Custom::MrapRoutes", {
        "MrapAlias": {"Fn::GetAtt": [Match.string_like_regexp("AccessPoint"), "Alias"]}})
