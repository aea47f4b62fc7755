"""The library in someone else's app: a bare ``cdk.App()`` with no context at all (no feature flags), where every
construct must set explicitly what a flag would decide. (The examples/ consumer does the same from the built wheel.)"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from mrap_constructs import AccessLogBucket, MrapBucket
from stacks.app_builder import build_app
from stacks.config import parse_config
from tests.conftest import ACCOUNT

FULL = {"name": "bare-full", "regions": ["us-east-1", "eu-west-1"], "account": ACCOUNT, "encryption": "sse-kms",
        "failover": {"active": ["us-east-1"]},
        "monitoring": {"cloudtrail": True, "request_metrics": True, "alarm_email": "ops@example.com"},
        "privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True,
                        "availability_zones": {"us-east-1": ["us-east-1a", "us-east-1b"]}}}


def test_access_log_bucket_docstring_example_works_without_feature_flags():
    """Without ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`` aws-cdk-lib grants the log-delivery ACL, which a
    BucketOwnerEnforced log bucket refuses ("objectOwnership must be set to ObjectWriter"): the construct admits log
    delivery by bucket policy itself, as AWS recommends."""
    stack = cdk.Stack(cdk.App(), "Logs", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    logs = AccessLogBucket(stack, "AccessLogs")
    bucket = MrapBucket(stack, "Bucket", bucket_name="media-111111111111-eu-west-1",
                        server_access_logs_bucket=logs.bucket)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::S3::Bucket", {"BucketName": "media-111111111111-eu-west-1",
                                                         "LoggingConfiguration": {
                                                             "DestinationBucketName": {"Ref": Match.any_value()},
                                                             "LogFilePrefix": "access-logs/"}})
    policies = json.dumps(template.find_resources("AWS::S3::BucketPolicy"))
    assert "logging.s3.amazonaws.com" in policies and "aws:SourceAccount" in policies
    assert "LogDeliveryWrite" not in json.dumps(template.to_json())
    assert bucket.bucket.bucket_name


@pytest.mark.parametrize("config", [
    {"name": "bare-default", "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"]}, FULL], ids=["default", "full"])
def test_the_whole_app_synthesizes_in_a_bare_app(config, tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    deployment = build_app(app, parse_config(config))
    assembly = app.synth()
    assert len(assembly.stacks) == len(deployment.stacks)


def test_cdk_nag_checks_only_the_stacks_build_app_creates(tmp_path):
    """A user's own stack in the same App is theirs to check: build_app's cdk-nag packs do not fail it, while a
    finding in one of the app's stacks still fails synth."""
    from aws_cdk import aws_iam as iam

    app = cdk.App(outdir=str(tmp_path))
    theirs = cdk.Stack(app, "theirs", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    iam.Role(theirs, "Wide", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")).add_to_policy(
        iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    deployment = build_app(app, parse_config({"name": "scoped", "regions": ["us-east-1"], "account": ACCOUNT}))
    app.synth()  # no finding: their wildcard role is not ours to judge

    app = cdk.App(outdir=str(tmp_path / "ours"))
    deployment = build_app(app, parse_config({"name": "scoped", "regions": ["us-east-1"], "account": ACCOUNT}))
    iam.Role(deployment.access_point_stack, "Wide", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
             ).add_to_policy(iam.PolicyStatement(actions=["s3:*"], resources=["*"]))
    with pytest.raises(Exception, match=r"AwsSolutions-IAM5"):
        app.synth()
