"""AWS SDK calls as CloudFormation resources (aws-cdk-lib's ``AwsCustomResource``), least privilege and nag-clean.

``AwsCustomResource`` reuses one Lambda function per stack, so its role is shared too: every call in the stack adds
its exact statements to one managed policy (no AWS managed policy, no inline policy), and the function writes to a
log group with a retention.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from mrap_constructs._nag import acknowledge_all, acknowledge_compliance, compliance

#: Construct id of aws-cdk-lib's shared AwsCustomResource provider function (fixed by aws-cdk-lib).
PROVIDER_FUNCTION_ID = "AWS679f53fac002430cb0da5b7982bd2287"


class _SdkProvider(Construct):
    _ID = "SdkCallProvider"

    def __init__(self, stack: Stack) -> None:
        super().__init__(stack, self._ID)
        self.log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_YEAR,
                                       removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                             description="Makes the AWS API calls of this stack's custom resources")
        self.policy = iam.ManagedPolicy(self, "Policy", roles=[self.role],
                                        description="Exactly the API calls of this stack's AwsCustomResources")
        self.policy.add_statements(iam.PolicyStatement(
            sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn]))
        acknowledge_compliance(self.log_group, "CloudWatchLogGroupEncrypted",
                               "The log holds only CloudFormation request ids and API call results, no object data.")
        self._acknowledged = False

    @classmethod
    def of(cls, stack: Stack) -> _SdkProvider:
        existing = stack.node.try_find_child(cls._ID)
        return existing if isinstance(existing, _SdkProvider) else cls(stack)

    def acknowledge_function(self) -> None:
        if self._acknowledged:
            return
        function = Stack.of(self).node.try_find_child(PROVIDER_FUNCTION_ID)
        if function is None:
            return
        self._acknowledged = True
        reasons = {
            "LambdaDLQ": "Invoked synchronously by CloudFormation, which reports and rolls back failures; there is "
                         "no event to dead-letter.",
            "LambdaInsideVPC": "Calls only AWS control APIs; a VPC adds NAT cost and no isolation for it.",
            "LambdaConcurrency": "Runs only during deployments, a few invocations per stack.",
        }
        acknowledge_all(function, {finding: reason for rule, reason in reasons.items()
                                   for finding in compliance(rule, reason)})


def sdk_call_resource(scope: Construct, id: str, *, resource_type: str, on_update: cr.AwsSdkCall | None,
                      on_delete: cr.AwsSdkCall | None, statements: Sequence[iam.PolicyStatement],
                      timeout: Duration = Duration.minutes(2),
                      on_create: cr.AwsSdkCall | None = None) -> cr.AwsCustomResource:
    """An ``AwsCustomResource`` whose calls run with exactly ``statements`` (added to the stack's shared policy).

    ``on_update`` also serves create unless ``on_create`` is given; with ``on_create`` and no ``on_update`` an update
    makes no call (aws-cdk-lib keeps the physical id). The resource depends on the policy, so permissions exist before
    the first call and outlive the last (delete) call.
    """
    provider = _SdkProvider.of(Stack.of(scope))
    provider.policy.add_statements(*statements)
    resource = cr.AwsCustomResource(
        scope, id, resource_type=resource_type, install_latest_aws_sdk=False, role=provider.role,
        log_group=provider.log_group, timeout=timeout, on_create=on_create, on_update=on_update, on_delete=on_delete,
    )
    resource.node.add_dependency(provider.policy)
    provider.acknowledge_function()
    return resource
