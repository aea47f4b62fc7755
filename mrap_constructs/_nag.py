"""Acknowledging cdk-nag findings (cdk-nag 3 reads CDK's ``Validations`` acknowledgments).

Acknowledgments live next to the construct they cover and carry a specific reason. The NIST 800-53 rev 5 and
HIPAA Security packs share rule names, so one call acknowledges a rule in both. Each call is one round trip to the
jsii runtime however many rules it carries, so callers pass all of a construct's rules at once.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Validations
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
