"""Failover as code: an MRAP's routing dials (active/passive), applied after the MRAP exists.

Routes have no CloudFormation type, so a custom resource (``Custom::MrapRoutes``, handler in
``mrap_runtime/handlers/routes.py``) calls ``SubmitMultiRegionAccessPointRoutes`` in a Region that serves the
routes API, waits until ``GetMultiRegionAccessPointRoutes`` shows the dials, and reverts to all-active on delete.

The config's dials are the *goal state*. ``initial_passive`` Regions (empty buckets awaiting a backfill) start at 0
when the resource is created and stay there until an operator activates them (``mrap activate``), because an
update submits only the dials whose goal changed: a redeploy never reverts an activation. An update that makes a
Region active first checks that its replication backlog is empty (``require_in_sync``), and fails the deploy when
it is not.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import (
    CustomResource,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_lambda as lambda_,
)
from aws_cdk import (
    aws_logs as logs,
)
from aws_cdk import (
    custom_resources as cr,
)
from constructs import Construct

import mrap_runtime
from mrap_constructs import _paths
from mrap_constructs._nag import acknowledge, acknowledge_compliance
from mrap_constructs._validation import Problems
from mrap_constructs.access_point import MultiRegionAccessPoint
from mrap_constructs.regions import failover_dials, failover_problems, initial_dials, routes_region_for

__all__ = ["MultiRegionAccessPointRoutes", "failover_dials"]

#: The handler's package: ``mrap_runtime`` (boto3 only), uploaded as it is laid out (see ``handler_asset_dir``).
RUNTIME_PACKAGE = Path(mrap_runtime.__file__).resolve().parent
#: The Lambda handler, in ``RUNTIME_PACKAGE``.
HANDLER = "mrap_runtime.handlers.routes.on_event"
HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14
#: The longest wait for the dials: Lambda's 900 s less the 120 s the function keeps to report to CloudFormation.
MAX_TIMEOUT_SECONDS = 780


@functools.cache
def handler_asset_dir() -> str:
    """A directory holding the ``mrap_runtime`` package — every module of it, as laid out, without bytecode caches —
    staged once per process (the asset hash is of the content, so it is the same in every synth) and removed at exit.
    Wherever the package lives (a checkout or site-packages), nothing else is uploaded."""
    staging = Path(tempfile.mkdtemp(prefix="mrap-routes-handler-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    shutil.copytree(RUNTIME_PACKAGE, staging / RUNTIME_PACKAGE.name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    return str(staging)


class MultiRegionAccessPointRoutes(Construct):
    """Sets which Regions of an MRAP receive traffic (dial 100) and which stand by (dial 0).

    Args:
        scope: parent construct (any Region; the handler calls the routes API in ``routes_region``).
        id: construct id.
        access_point: the MRAP (created in this app).
        active: Regions that receive traffic; at least one.
        passive: Regions that stand by. Default: every MRAP Region not in ``active``. When given, ``active`` and
            ``passive`` together must name every Region once.
        routes_region: where to call the routes API (us-east-1, us-west-2, ap-southeast-2, ap-northeast-1,
            eu-west-1). Default: one of the MRAP's Regions that serves it, else us-west-2.
        timeout: how long to wait for AWS to apply the dials (it can take ~2 minutes), conflict retries included;
            60 s to 13 minutes. Default: 10 minutes.
        initial_passive: Regions whose buckets start empty (a backfill fills them): passive at creation, whatever
            their goal dial, until activated (``mrap activate``). Default: none.
        require_in_sync: an update that activates a Region fails unless the Region's replication backlog
            (``OperationsPendingReplication``/``BytesPendingReplication`` of every rule into it) is empty, and fails
            when it cannot be read (unknown is never "in sync"). Default: True.
        handler_role_name: physical name of the handler's role, for other accounts' reader roles to name it in
            their trust policies. Default: generated.
        reader_roles: ``{region: role ARN}``: for buckets in other accounts, the read-only role the handler assumes
            to read their replication rules and metrics. Default: none (every bucket is read in this account).

    Attributes:
        dials (the goal, ``{region: 0|100}``), initial (the dials at creation), handler (the Lambda function),
        resource (the custom resource).

    Raises:
        ValueError: no active Region, a Region outside the MRAP, a Region both active and passive, Regions named in
            neither list, or an unsupported ``routes_region``.

    Example:
        MultiRegionAccessPointRoutes(stack, "Failover", access_point=mrap, active=["us-east-1"])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_point: MultiRegionAccessPoint,
        active: Sequence[str],
        passive: Sequence[str] | None = None,
        routes_region: str | None = None,
        timeout: Duration = Duration.minutes(10),
        initial_passive: Sequence[str] = (),
        require_in_sync: bool = True,
        handler_role_name: str | None = None,
        reader_roles: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        regions = list(access_point.regions)
        self._validate(id, regions, list(active), None if passive is None else list(passive), routes_region, timeout,
                       list(initial_passive))
        self.dials: dict[str, int] = failover_dials(regions, active)
        self.initial: dict[str, int] = initial_dials(self.dials, initial_passive)
        self.routes_region = routes_region or routes_region_for(regions)
        stack = Stack.of(self)

        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, "HandlerRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        role_name=handler_role_name,
                        description=f"Sets the routing dials of MRAP {access_point.name}")
        readers = dict(sorted((reader_roles or {}).items()))
        reader_statements = [iam.PolicyStatement(
            # The buckets of other accounts: their replication rules and metrics are read through a read-only role
            # in each (RegionalBucketStack.state_reader), with sts:AssumeRole.
            sid="AssumeBucketAccountReaders", actions=["sts:AssumeRole"], resources=list(readers.values()))] \
            if readers else []
        policy = iam.ManagedPolicy(self, "HandlerPolicy", roles=[role], statements=[
            iam.PolicyStatement(
                sid="RoutesOfThisMrap",
                actions=["s3:GetMultiRegionAccessPoint", "s3:GetMultiRegionAccessPointRoutes",
                         "s3:SubmitMultiRegionAccessPointRoutes"],
                resources=[access_point.arn],
            ),
            # The in-sync check before activating a Region: the rules into it, and their replication metrics.
            iam.PolicyStatement(sid="ReadReplicationRules", actions=["s3:GetReplicationConfiguration"],
                                resources=[f"arn:{stack.partition}:s3:::{bucket}"
                                           for bucket in access_point.bucket_names.values()]),
            iam.PolicyStatement(sid="ReadReplicationBacklog", actions=["cloudwatch:GetMetricData"], resources=["*"]),
            iam.PolicyStatement(sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                resources=[log_group.log_group_arn]),
            *reader_statements,
        ])
        self.handler = lambda_.Function(
            self,
            "Handler",
            runtime=HANDLER_RUNTIME,
            handler=HANDLER,
            code=lambda_.Code.from_asset(handler_asset_dir()),
            timeout=Duration.seconds(min(timeout.to_seconds() + 120, 900)),
            memory_size=256,
            role=role,
            log_group=log_group,
            description=f"Custom::MrapRoutes for {access_point.name}",
        )
        self.handler.node.add_dependency(policy)
        # The framework function's log group is given explicitly: whether aws-cdk-lib creates one depends on the
        # app's feature flags (@aws-cdk/aws-lambda:useCdkManagedLogGroup).
        self.provider_log_group = logs.LogGroup(self, "ProviderLogs", retention=logs.RetentionDays.ONE_YEAR,
                                                removal_policy=RemovalPolicy.DESTROY)
        provider = cr.Provider(self, "Provider", on_event_handler=self.handler, log_group=self.provider_log_group)
        if _paths.moved(provider):  # the framework function's description names the provider's path (see _paths)
            framework = provider.node.find_child("framework-onEvent").node.default_child
            framework.add_property_override(  # type: ignore[union-attr]
                "Description", "AWS CDK resource provider framework - onEvent "
                               f"({'/'.join(_paths.stable_path(provider))})")
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type="Custom::MrapRoutes",
            properties={
                "AccountId": stack.account,
                "MrapName": access_point.resource.ref,
                # A replaced MRAP has a new alias (its name may stay): the handler compares the alias.
                "MrapAlias": access_point.alias,
                "Dials": {region: str(dial) for region, dial in self.dials.items()},
                "RoutesRegion": self.routes_region,
                "TimeoutSeconds": str(int(timeout.to_seconds())),
                "InitialPassive": sorted(set(initial_passive)),
                "RequireInSync": "true" if require_in_sync else "false",
                **({"ReaderRoles": readers} if readers else {}),
            },
        )
        self._acknowledge(provider)

    @staticmethod
    def _validate(id: str, regions: list[str], active: list[str], passive: list[str] | None,
                  routes_region: str | None, timeout: Duration, initial_passive: list[str]) -> None:
        problems = Problems("MultiRegionAccessPointRoutes", id)
        for field, value, rule in failover_problems(regions, active, passive, routes_region):
            problems.add(field, value, rule)
        outside = [r for r in initial_passive if r not in regions]
        if outside:
            problems.add("initial_passive", outside, f"every Region must be one of the MRAP's Regions {regions}")
        seconds = timeout.to_seconds()
        if not 60 <= seconds <= MAX_TIMEOUT_SECONDS:
            # The handler runs in a Lambda function, which stops after 900 s; the budget leaves it time to report.
            # https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
            problems.add("timeout", f"{seconds:.0f} s", f"give 60 s to {MAX_TIMEOUT_SECONDS} s: the handler runs in "
                         "a Lambda function, which AWS stops after 900 s")
        problems.raise_if_any()

    def _acknowledge(self, provider: cr.Provider) -> None:
        acknowledge(self.node.find_child("HandlerPolicy"), "AwsSolutions-IAM5[Resource::*]",
                    "cloudwatch:GetMetricData supports no resource-level permissions (Service Authorization "
                    "Reference, Amazon CloudWatch); it reads the replication backlog before activating a Region.")
        acknowledge_compliance(self.node.find_child("Logs"), "CloudWatchLogGroupEncrypted",
                               "The log holds request ids and routing dials, no object data.")
        on_deploy = {
            "LambdaDLQ": "Invoked synchronously through CloudFormation, which reports and rolls back failures.",
            "LambdaInsideVPC": "Calls only the S3 control API; a VPC adds NAT cost and no isolation for it.",
            "LambdaConcurrency": "Runs only during deployments, one invocation per change.",
        }
        framework = provider.node.find_child("framework-onEvent")
        for function in (self.handler, framework):
            for rule, reason in on_deploy.items():
                acknowledge_compliance(function, rule, reason)
        framework_reason = ("aws-cdk-lib's custom-resource Provider framework function; its role and runtime are "
                            "managed by aws-cdk-lib.")
        acknowledge(framework, "AwsSolutions-L1", framework_reason)
        acknowledge(framework.node.find_child("ServiceRole"),
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]", framework_reason)
        acknowledge(framework.node.find_child("ServiceRole"), "AwsSolutions-IAM5[Resource::<"
                    f"{Stack.of(self).get_logical_id(self.handler.node.default_child)}.Arn>:*]",
                    "The framework invokes exactly the routes handler (all its versions).")
        acknowledge_compliance(framework.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
                               "IAMNoInlinePolicy", framework_reason)
        acknowledge_compliance(self.provider_log_group, "CloudWatchLogGroupEncrypted",
                               "The framework's log holds request ids and handler results, no object data.")

