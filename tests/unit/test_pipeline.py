"""The many-accounts path: CDK Pipelines with one stage per target account, each holding the two deploy waves."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.app_builder import build_pipeline
from stacks.config import ConfigError, parse_config
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
        assert [len(w) for w in waves] == [1, 2]
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
