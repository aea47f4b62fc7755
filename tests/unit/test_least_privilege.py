"""Least-privilege audit: every IAM document in every template, no wildcard actions or resources, and no
unconditioned trust, except the cases AWS requires — each listed here with its reason."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_app import SCENARIOS

#: (resource type, why "*" is acceptable there)
WILDCARD_RESOURCE_ALLOWED = {
    "AWS::KMS::Key": "a key policy's Resource '*' means 'this key'; AWS requires that form",
}
#: Actions that support no resource-level permissions (IAM requires Resource "*"), with why the project uses them.
WILDCARD_RESOURCE_ACTIONS_ALLOWED = {
    "ec2:DescribeVpcEndpoints": "finds the app's endpoint ids (by tag) for the restricted MRAP policy",
    "ec2:DescribeVpcs": "finds the VPC of each PrivateLink stack (by CloudFormation's stack-name tag)",
    "cloudwatch:GetMetricData": "the routes handler reads the replication backlog before it activates a Region",
    "s3:CreateJob": "starts the backfill's Batch Replication job (conditioned on s3:RequestJobOperation)",
}
#: Wildcard actions that AWS defaults require, by resource type.
WILDCARD_ACTION_ALLOWED = {
    ("AWS::KMS::Key", "kms:*"): "the default key policy gives the account root full control so IAM policies apply "
                                "(without it the key can become unmanageable)",
}
#: Services whose execution roles are assumed without conditions (no confused-deputy keys are supported).
UNCONDITIONED_TRUST_ALLOWED = {
    "lambda.amazonaws.com": "Lambda assumes an execution role only for functions in this account that name it",
    "s3.amazonaws.com": "AWS's replication-role trust policy has no condition and no AWS source says S3 sends "
                        "aws:SourceArn/aws:SourceAccount when assuming it; a condition it does not meet fails every "
                        "replication silently (https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
                        "setting-repl-config-perm-overview.html)",
}


def _documents(template: dict):
    """Yield (logical id, resource type, kind, statement) for every policy statement in a template."""
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        docs = []
        if kind == "AWS::IAM::Role":
            docs.append(("trust", props["AssumeRolePolicyDocument"]))
            docs += [("inline", p["PolicyDocument"]) for p in props.get("Policies", [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy"):
            docs.append(("policy", props["PolicyDocument"]))
        elif kind == "AWS::S3::MultiRegionAccessPointPolicy":
            docs.append(("policy", props["Policy"]))
        elif kind == "AWS::KMS::Key":
            docs.append(("policy", props["KeyPolicy"]))
        for doc_kind, doc in docs:
            for statement in doc["Statement"]:
                yield logical_id, kind, doc_kind, statement


def _as_list(value):
    return value if isinstance(value, list) else [value]


def audit(template: dict) -> list[str]:
    problems = []
    for logical_id, kind, doc_kind, statement in _documents(template):
        if statement.get("Effect") == "Deny":
            continue
        where = f"{logical_id} ({kind})"
        if doc_kind == "trust":
            services = _as_list(statement.get("Principal", {}).get("Service", []))
            if not statement.get("Condition") and not all(s in UNCONDITIONED_TRUST_ALLOWED for s in services):
                problems.append(f"{where}: trust policy without conditions for {statement.get('Principal')}")
            continue
        for action in _as_list(statement.get("Action", [])):
            if action == "*" or (isinstance(action, str) and action.endswith(":*")):
                if (kind, action) not in WILDCARD_ACTION_ALLOWED:
                    problems.append(f"{where}: wildcard action {action}")
        for resource in _as_list(statement.get("Resource", [])):
            actions = set(_as_list(statement.get("Action", [])))
            if resource == "*" and kind not in WILDCARD_RESOURCE_ALLOWED and \
                    not actions <= set(WILDCARD_RESOURCE_ACTIONS_ALLOWED):
                problems.append(f"{where}: Resource '*' for {statement.get('Action')}")
    return problems


@pytest.mark.parametrize("scenario", ["mesh-2", "oneway-3", "kms-2"])
def test_no_wildcards_or_unconditioned_trust(synth, scenario):
    app = synth(SCENARIOS[scenario])
    problems = [p for name in app.stack_names for p in audit(app.template_json(name))]
    assert problems == []


def test_default_app_has_no_wildcards(default_app):
    assert [p for name in default_app.stack_names for p in audit(default_app.template_json(name))] == []


def test_audit_catches_wildcards_and_bare_trust():
    """Guards the guard."""
    template = {"Resources": {
        "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}},
        "R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "states.amazonaws.com"}}]}}},
    }}
    assert len(audit(template)) == 3


def test_every_iam_document_was_seen(default_app):
    kinds = {kind for name in default_app.stack_names for _, kind, _, _ in _documents(default_app.template_json(name))}
    assert {"AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::S3::BucketPolicy",
            "AWS::S3::MultiRegionAccessPointPolicy"} <= kinds
    assert json.dumps(sorted(kinds))
