"""MrapSet is a node of the construct tree: Tags, Aspects and RemovalPolicies applied to it reach every resource of
every stack it makes — while every deployed stack name and logical id stays what earlier releases synthesized."""

from __future__ import annotations

import json

import aws_cdk as cdk
import jsii
import pytest

from mrap_constructs import FailoverOptions, MrapSet, PrivateLinkOptions
from tests.conftest import ACCOUNT, ROOT
from tests.unit.test_readme import _run_example

#: Stack names and logical ids synthesized by the release before the stacks became the set's children.
STABLE = json.loads((ROOT / "tests" / "unit" / "data" / "stable_ids.json").read_text())
SECTIONS = ("Resources", "Outputs", "Parameters", "Conditions")


def _ids(stacks) -> dict[str, dict[str, list[str]]]:
    return {s.stack_name: {sec: sorted(s.template.get(sec, {})) for sec in SECTIONS if s.template.get(sec)}
            for s in stacks}


def test_readme_app_keeps_every_stack_name_and_logical_id(monkeypatch, tmp_path):
    assembly = _run_example("mrap-set", monkeypatch, tmp_path).synth()
    assert _ids(assembly.stacks) == STABLE["readme"]


def test_default_app_keeps_every_stack_name_and_logical_id(default_app):
    assert _ids(default_app.assembly.stacks) == STABLE["default"]


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("tagged")))
    media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1"], account=ACCOUNT,
                    encryption=cdk.aws_s3.BucketEncryption.KMS, failover=FailoverOptions(active=["us-east-1"]),
                    privatelink=PrivateLinkOptions(regions=["us-east-1"],
                                                   availability_zones={"us-east-1": ["us-east-1a", "us-east-1b"]}))
    cdk.Tags.of(media).add("team", "storage")
    cdk.RemovalPolicies.of(media).destroy()

    @jsii.implements(cdk.IAspect)
    class Count:
        visited: set[str] = set()

        def visit(self, node) -> None:
            if isinstance(node, cdk.CfnResource):
                Count.visited.add(node.node.path)

    cdk.Aspects.of(media).add(Count())
    return media, app.synth(), Count.visited


TAGGABLE = {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::IAM::Role", "AWS::SNS::Topic", "AWS::EC2::VPC",
            "AWS::Lambda::Function"}


def test_tags_of_the_set_reach_every_bucket_key_and_role(tagged):
    media, assembly, _ = tagged
    found: dict[str, int] = {}
    for stack in assembly.stacks:
        for logical_id, resource in stack.template["Resources"].items():
            # aws-cdk's CustomResourceProvider roles are plain CfnResources no Tags aspect reaches, from any scope.
            if resource["Type"] in TAGGABLE and "CustomResourceProvider" not in logical_id:
                found[resource["Type"]] = found.get(resource["Type"], 0) + 1
                tags = resource["Properties"].get("Tags", [])
                assert {"Key": "team", "Value": "storage"} in tags, f"{stack.stack_name}/{logical_id}"
    assert {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::IAM::Role"} <= set(found)


def test_removal_policies_and_aspects_of_the_set_reach_every_stack(tagged):
    media, assembly, visited = tagged
    buckets = [r for s in assembly.stacks for r in s.template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert buckets and all(r["DeletionPolicy"] == "Delete" for r in buckets)
    assert {path.split("/")[1] for path in visited} == {s.node.id for s in media.stacks}
