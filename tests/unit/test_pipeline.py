"""The many-accounts path: CDK Pipelines with one stage per target account, each holding the two deploy waves."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mrap_constructs._nag import wildcard_findings
from stacks import pipeline_stack
from stacks.config import ConfigError, parse_config
from stacks.pipeline_stack import build_pipeline
from tests.conftest import FEATURE_FLAGS

PIPELINE = {"name": "fleet", "regions": ["us-east-1"],
            "pipeline": {"repository": "acme/mrap", "accounts": ["222222222222", "111111111111"],
                         "connection_arn": "arn:aws:codestar-connections:us-west-2:999999999999:connection/abc",
                         "account": "999999999999"}}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path_factory.mktemp("pipeline")))
    stack = build_pipeline(app, parse_config(PIPELINE))
    app.synth()
    return stack


def test_pipeline_sources_the_repository_and_synthesizes_with_make(pipeline):
    template = Template.from_stack(pipeline)
    template.resource_count_is("AWS::CodePipeline::Pipeline", 1)
    text = json.dumps(template.to_json())
    assert "acme/mrap" in text and "make synth" in text


def test_one_stage_per_account_with_two_waves_each(pipeline):
    assert [stage.deployment.config.account for stage in pipeline.stages] == ["111111111111", "222222222222"]
    for stage in pipeline.stages:
        waves = stage.deployment.waves
        assert [len(w) for w in waves] == [1, 1]  # one Region: its bucket, then the MRAP (nothing to replicate)
        assert all(s.account == stage.deployment.config.account for w in waves for s in w)
        second = waves[1]
        assert all(set(s.dependencies) == set(waves[0]) for s in second)


def test_pipeline_deploys_every_stage_stack(pipeline):
    stages = json.dumps(Template.from_stack(pipeline).to_json())
    for account in ("111111111111", "222222222222"):
        assert len(re.findall(f"Mrap-{account}\\.fleet-bucket", stages)) >= 1
        assert len(re.findall(f"Mrap-{account}\\.fleet-access-point", stages)) >= 1


@pytest.mark.parametrize(("change", "message"), [
    ({"accounts": []}, r"List should have at least 1 item"),
    ({"accounts": ["12"]}, r"must be a 12-digit AWS account id"),
    ({"repository": "not a repo"}, r"String should match pattern"),
    ({"connection_arn": "arn:aws:iam::1:role/x"}, r"String should match pattern"),
])
def test_config_fails_on_bad_pipeline_settings(change, message):
    with pytest.raises(ConfigError) as err:
        parse_config({**PIPELINE, "pipeline": {**PIPELINE["pipeline"], **change}})
    assert any(re.search(message, line) for line in err.value.problems), err.value.problems


def test_pipeline_and_support_stack_keys_rotate(pipeline):
    keys = [resource for artifact in pipeline.node.root.synth().stacks_recursively
            for resource in artifact.template.get("Resources", {}).values() if resource["Type"] == "AWS::KMS::Key"]
    assert len(keys) >= 2  # the pipeline's artifact key and one per cross-Region support stack
    assert all(key["Properties"].get("EnableKeyRotation") is True for key in keys)


def test_cdk_nag_checks_the_stages_inside_the_pipeline(tmp_path, monkeypatch):
    # CDK runs a stage's own plugins only for stages directly under the App: the App-level packs must catch this.
    # CDK Pipelines synthesizes a stage when it is added, so the sloppy role goes in while the stage is built.
    build_app = pipeline_stack.build_app

    def build_with_a_sloppy_role(stage, config, **kwargs):
        deployment = build_app(stage, config, **kwargs)
        role = iam.Role(deployment.stacks[0], "Sloppy", assumed_by=iam.AccountRootPrincipal())
        role.add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
        return deployment

    monkeypatch.setattr(pipeline_stack, "build_app", build_with_a_sloppy_role)
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        build_pipeline(app, parse_config(PIPELINE))
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    flagged = {(v["ruleName"], r["constructPath"]) for p in report["pluginReports"] for v in p["violations"]
               for r in v["violatingConstructs"]}
    for account in ("111111111111", "222222222222"):
        path = f"fleet-pipeline/Mrap-{account}/fleet-set/fleet-bucket-us-east-1/Sloppy/DefaultPolicy/Resource"
        assert ("AwsSolutions-IAM5[Action::s3:*]", path) in flagged
    assert all("/Sloppy/" in path for _, path in flagged), "only the added roles may be flagged"


def test_wildcard_findings_name_actions_and_resources_as_cdk_nag_does():
    document = {"Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject*", "s3:PutObject"],
         "Resource": [{"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "/*"]]}, "arn:aws:s3:::exact"]},
        {"Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": {"Fn::Join": ["", ["arn:aws:logs:*:", {"Ref": "AWS::AccountId"}, ":log-group:${Name}"]]}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},  # denials are never findings
    ]}
    assert wildcard_findings(document) == [
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/*]",
        "AwsSolutions-IAM5[Resource::arn:aws:logs:*:<AWS::AccountId>:log-group:<Name>]",
    ]
