"""Acknowledging cdk-nag findings (cdk-nag 3 reads CDK's ``Validations`` acknowledgments).

Acknowledgments live next to the construct they cover and carry a specific reason. The NIST 800-53 rev 5 and
HIPAA Security packs share rule names, so one call acknowledges a rule in both.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

#: Packs whose rule ids are ``{pack}-{RuleName}`` for the same compliance rule.
COMPLIANCE_PACKS = ("NIST.800.53.R5", "HIPAA.Security")


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding id (e.g. ``AwsSolutions-S1`` or ``AwsSolutions-IAM5[Resource::...]``)."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_compliance(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``LambdaDLQ``) in every compliance pack that has it."""
    for pack in COMPLIANCE_PACKS:
        acknowledge(construct, f"{pack}-{rule}", reason)
