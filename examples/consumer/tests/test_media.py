"""The consumer's synth-and-assert tests, against the library as installed from the wheel."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import mrap_constructs
import pytest
from aws_cdk.assertions import Match, Template

import stacks
from mrap_constructs.rules import AwsDeployRules
from stacks.media import ACCOUNT, build


def test_the_library_comes_from_the_wheel_and_our_stacks_package_is_ours():
    assert "site-packages" in Path(mrap_constructs.__file__).parts, mrap_constructs.__file__
    assert Path(stacks.__file__).resolve().parent == Path(__file__).resolve().parent.parent / "stacks"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("cdk.out")))  # bare: no context, no feature flags
    built = build(app)
    cdk.Validations.of(app).add_plugins(AwsDeployRules())
    app.synth()
    return built


def test_bucket_is_versioned_private_and_delegates_to_the_mrap_account(synthesized):
    template = Template.from_stack(synthesized["bucket-eu-west-1"])
    template.has_resource_properties("AWS::S3::Bucket", {
        "BucketName": f"media-{ACCOUNT}-eu-west-1", "VersioningConfiguration": {"Status": "Enabled"}})
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "DelegateToAccessPointsOfAccount", "Principal": {"AWS": "*"},
                           "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}}})])}})


def test_reader_may_read_through_the_mrap_alias(synthesized):
    template = Template.from_stack(synthesized["access-point"])
    template.resource_count_is("AWS::S3::MultiRegionAccessPoint", 1)
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "s3:GetObject" in policies and "Alias" in policies


def test_replication_goes_to_the_other_region(synthesized):
    template = Template.from_stack(synthesized["replication-us-east-1"])
    text = json.dumps(template.to_json())
    assert f"arn:aws:s3:::media-{ACCOUNT}-eu-west-1" in text


def test_the_whole_set_from_one_construct(tmp_path):
    from mrap_constructs import FailoverOptions, MrapSet

    app = cdk.App(outdir=str(tmp_path))
    fleet = MrapSet(app, "Fleet", name="fleet", regions=["us-east-1", "eu-west-1"], account=ACCOUNT,
                    failover=FailoverOptions(active=["us-east-1"]))
    cdk.Tags.of(fleet).add("team", "storage")  # the set is the stacks' parent: its tags reach every resource
    cdk.Validations.of(app).add_plugins(AwsDeployRules())
    assembly = app.synth()
    assert [len(wave) for wave in fleet.waves] == [2, 3]
    assert {s.stack_name for s in assembly.stacks} == {s.stack_name for s in fleet.stacks}
    buckets = Template.from_stack(fleet.bucket_stacks["us-east-1"]).find_resources("AWS::S3::Bucket")
    assert all({"Key": "team", "Value": "storage"} in b["Properties"]["Tags"] for b in buckets.values())
    Template.from_stack(fleet.access_point_stack).has_resource_properties(
        "Custom::MrapRoutes", {"Dials": {"us-east-1": "100", "eu-west-1": "0"}})
