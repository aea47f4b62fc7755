"""AWS's deploy rules as synth-time checks: what AWS would reject, or silently break, caught before a deploy.

Each rule is one module (like cdk-nag's ``rules/``) with ``NAME``, ``SOURCE`` (the AWS documentation or botocore
model that states the rule), ``FIX`` and ``check(assembly)``. The rules read the synthesized assembly — every stack,
with its deploy wave — because several are about order across stacks ("a policy names a role created in a later
wave"), which no single construct can see.

``AwsDeployRules`` is a CDK validation plugin (the mechanism cdk-nag 3 uses): a finding fails ``cdk synth`` with a
report naming the stack, the resource, the rule and its source. The app registers it on every synth; use it on your
own apps the same way.

Example:
    app = cdk.App()
    ...  # your stacks
    cdk.Validations.of(app).add_plugins(AwsDeployRules())
    app.synth()  # raises when a rule is broken

    findings = check_assembly(["cdk.out/my-stack.template.json"])  # the same checks on templates on disk
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from mrap_constructs.rules import (
    adopted_bucket_key,
    alarm_topic_key,
    asset_dotfiles,
    cloudfront_certificate_region,
    in_sync_check_reads_accounts,
    mrap_origin_bucket_key,
    mrap_origin_opt_in_region,
    mrap_origin_signing,
    mrap_policy_denies_control_plane,
    principal_created_later,
    replica_key_admits_source,
    replication_destination_later,
    replication_schema,
    tag_filter_delete_markers,
    trail_key,
)
from mrap_constructs.rules._assembly import Assembly, Finding

__all__ = ["RULES", "AwsDeployRules", "Finding", "check_assembly"]

#: Every rule, in report order.
RULES: tuple[ModuleType, ...] = (
    principal_created_later,
    replication_destination_later,
    tag_filter_delete_markers,
    replication_schema,
    alarm_topic_key,
    trail_key,
    mrap_policy_denies_control_plane,
    mrap_origin_signing,
    mrap_origin_opt_in_region,
    mrap_origin_bucket_key,
    cloudfront_certificate_region,
    asset_dotfiles,
    replica_key_admits_source,
    adopted_bucket_key,
    in_sync_check_reads_accounts,
)
_BY_NAME = {rule.NAME: rule for rule in RULES}


def check_assembly(template_paths: Sequence[str | Path], *, rules: Sequence[ModuleType] = RULES) -> list[Finding]:
    """Run ``rules`` over the stacks of ``template_paths`` (templates of one or more cloud assemblies)."""
    assembly = Assembly([str(p) for p in template_paths])
    return [finding for rule in rules for finding in rule.check(assembly)]


@jsii.implements(IPolicyValidationPlugin)
class AwsDeployRules:
    """The rules as a CDK validation plugin: ``cdk.Validations.of(app).add_plugins(AwsDeployRules())``.

    Args:
        rules: the rule modules to run. Default: ``RULES`` (all).
    """

    def __init__(self, rules: Sequence[ModuleType] = RULES) -> None:
        self._rules = tuple(rules)

    @property
    def name(self) -> str:
        return "mrap-AwsDeployRules"

    @property
    def version(self) -> str:
        return "1.0.0"

    @property
    def rule_ids(self) -> list[str]:
        return [rule.NAME for rule in self._rules]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        assembly = Assembly(list(context.template_paths))
        findings = [finding for rule in self._rules for finding in rule.check(assembly)]
        violations = []
        for finding in findings:
            rule = _BY_NAME[finding.rule]
            stack = assembly.stacks.get(finding.stack)
            resource = PolicyViolatingResource(
                locations=[finding.location], resource_logical_id=finding.logical_id,
                template_path=str(stack.template_path) if stack else None,
            ) if finding.logical_id else PolicyViolatingResource(locations=[finding.location],
                                                                 construct_path=finding.stack)
            violations.append(PolicyViolation(
                rule_name=rule.NAME, description=f"{finding.stack}: {finding.message}. AWS: {rule.SOURCE}",
                fix=rule.FIX, violating_resources=[resource], severity="error",
            ))
        return PolicyValidationPluginReport(success=not violations, violations=violations)
