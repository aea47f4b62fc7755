"""Acknowledging cdk-nag findings (cdk-nag 3 reads CDK's ``Validations`` acknowledgments).

Acknowledgments live next to the construct they cover and carry a specific reason. The NIST 800-53 rev 5 and
HIPAA Security packs share rule names, so one call acknowledges a rule in both. Each call is one round trip to the
jsii runtime however many rules it carries, so callers pass all of a construct's rules at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    Aws,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from constructs import IConstruct

#: Packs whose rule ids are ``{pack}-{RuleName}`` for the same compliance rule.
COMPLIANCE_PACKS = ("NIST.800.53.R5", "HIPAA.Security")


def acknowledge_all(construct: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledge ``{finding id: reason}`` on ``construct`` in one call."""
    if findings:
        Validations.of(construct).acknowledge(*(Acknowledgment(id=i, reason=r) for i, r in findings.items()))


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding id (e.g. ``AwsSolutions-S1`` or ``AwsSolutions-IAM5[Resource::...]``)."""
    acknowledge_all(construct, {rule_id: reason})


def compliance(rule: str, reason: str) -> dict[str, str]:
    """``{finding id: reason}`` for ``rule`` (e.g. ``LambdaDLQ``) in every compliance pack that has it."""
    return {f"{pack}-{rule}": reason for pack in COMPLIANCE_PACKS}


def acknowledge_compliance(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` in every compliance pack that has it."""
    acknowledge_all(construct, compliance(rule, reason))


@functools.cache
def _pseudo_parameter_tokens() -> tuple[tuple[str, str], ...]:
    # Each Aws.X read is a call into the jsii runtime: read them once.
    return ((Aws.ACCOUNT_ID, "<AWS::AccountId>"), (Aws.PARTITION, "<AWS::Partition>"), (Aws.REGION, "<AWS::Region>"))


def nag_rendering(value: str) -> str:
    """Render pseudo-parameter tokens in an unresolved string the way cdk-nag prints them in finding ids
    (``<AWS::AccountId>``); ``flatten_reference`` does the same for resolved values."""
    for token, rendered in _pseudo_parameter_tokens():
        value = value.replace(token, rendered)
    return value


def flatten_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag writes it in finding ids (its ``flattenCfnReference``, which cdk-nag
    does not export): ``Fn::Join`` joined, ``Fn::GetAtt`` as ``<Id.Attr>``, ``Ref`` as ``<Id>``, ``${x}`` as ``<x>``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return delimiter.join(flatten_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flatten_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flatten_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flatten_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


def wildcard_findings(policy_document: Mapping[str, Any]) -> list[str]:
    """The ``AwsSolutions-IAM5[...]`` finding ids of a resolved policy document: every wildcard action and resource
    of its Allow statements, as cdk-nag's IAM5 rule names them."""
    findings: dict[str, None] = {}
    for statement in policy_document.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if "*" in action:
                findings[f"AwsSolutions-IAM5[Action::{action}]"] = None
        for resource in map(flatten_reference, _as_list(statement.get("Resource"))):
            if "*" in resource:
                findings[f"AwsSolutions-IAM5[Resource::{resource}]"] = None
    return list(findings)


def acknowledge_generated_policies(scope: IConstruct, wildcards: str, inline: str) -> None:
    """Acknowledge, on every IAM policy aws-cdk-lib generated below ``scope``, its wildcard findings (reason
    ``wildcards``) and, for inline policies, the compliance packs' no-inline-policy rule (reason ``inline``).

    For constructs whose grants aws-cdk-lib writes (e.g. CDK Pipelines); call it once they are complete. Scoped to
    ``scope``: nothing outside it is acknowledged.
    """
    for node in scope.node.find_all():
        if isinstance(node, iam.CfnPolicy | iam.CfnManagedPolicy):
            document = Stack.of(node).resolve(node.policy_document)
            findings = dict.fromkeys(wildcard_findings(document), wildcards)
            if isinstance(node, iam.CfnPolicy):
                findings |= compliance("IAMNoInlinePolicy", inline)
            acknowledge_all(node, findings)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]



@jsii.implements(IPolicyValidationPlugin)
class ScopedNagPack:
    """A cdk-nag pack run over ``scopes`` only (e.g. the stacks this library created), not the whole App.

    A pack registered on an App walks every construct in it, so it would fail a user's unrelated stacks; this plugin
    calls the pack's ``validate_scope`` on each scope instead. Acknowledgments work as with the pack itself.

    Example:
        cdk.Validations.of(app).add_plugins(ScopedNagPack(AwsSolutionsChecks(), [stack_a, stack_b]))
    """

    def __init__(self, pack: Any, scopes: Sequence[IConstruct]) -> None:
        self._pack = pack
        self._scopes = list(scopes)

    @property
    def name(self) -> str:
        return self._pack.read_pack_name

    @property
    def version(self) -> str:
        return "3.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return []

    def validate(self, context: Any) -> PolicyValidationPluginReport:
        violations = [v for scope in self._scopes for v in self._pack.validate_scope(scope).violations]
        return PolicyValidationPluginReport(success=not violations, violations=violations)
