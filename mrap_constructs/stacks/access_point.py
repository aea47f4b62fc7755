"""Wave 2: the Multi-Region Access Point and its policy, in the home Region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs.access_point import MultiRegionAccessPoint
from mrap_constructs.monitoring import MrapDashboard
from mrap_constructs.monitoring.trail import DataEventsTrail
from mrap_constructs.naming import account_root_principal
from mrap_constructs.policy import owner_sid
from mrap_constructs.replication import ReplicationDestination
from mrap_constructs.routes import MultiRegionAccessPointRoutes


class AccessPointStack(Stack):
    """The MRAP over the per-Region buckets, with a policy that admits the owning account's principals.

    Identity policies in the account still decide who may use it (``grant_read`` etc.).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        mrap_name: str,
        bucket_names: Mapping[str, str],
        bucket_accounts: Mapping[str, str] | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        failover_active: Sequence[str] | None = None,
        failover_passive: Sequence[str] | None = None,
        routes_region: str | None = None,
        dashboard_replication: Mapping[str, tuple[str, Sequence[ReplicationDestination]]] | None = None,
        dashboard_name: str | None = None,
        request_metric_buckets: Mapping[str, str] | None = None,
        cloudtrail_buckets: Mapping[str, str] | None = None,
        policy: bool = True,
        initial_passive: Sequence[str] = (),
        require_in_sync: bool = True,
        routes_handler_role_name: str | None = None,
        reader_roles: Mapping[str, str] | None = None,
        cloudtrail_management_events: bool = False,
        trail_name: str | None = None,
        policy_generation: int = 0,
        description: str | None = None, stack_name: str | None = None,
    ) -> None:
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        self.access_point = MultiRegionAccessPoint(
            self, "AccessPoint", name=mrap_name, buckets=bucket_names, bucket_accounts=bucket_accounts,
            removal_policy=removal_policy
        )
        if policy:  # else the restricted policy of wave 4 (mrap_constructs/stacks/policy.py) is the MRAP's policy
            self.access_point.add_to_resource_policy(iam.PolicyStatement(
                sid=owner_sid("AllowOwningAccountPrincipals", policy_generation),
                principals=[account_root_principal(self, self.account)],
                actions=list(_perms.DELEGATED_BUCKET_ACTIONS),
                resources=[self.access_point.arn, self.access_point.object_arn("*")],
            ))
        self.routes: MultiRegionAccessPointRoutes | None = None
        if failover_active is not None or initial_passive:
            self.routes = MultiRegionAccessPointRoutes(
                self, "Routes", access_point=self.access_point,
                active=failover_active if failover_active is not None else list(bucket_names),
                passive=failover_passive, routes_region=routes_region, initial_passive=initial_passive,
                require_in_sync=require_in_sync, handler_role_name=routes_handler_role_name,
                reader_roles=reader_roles,
            )
            CfnOutput(self, "MrapActiveRegions", value=",".join(r for r, d in self.routes.dials.items() if d))
        self.dashboard: MrapDashboard | None = None
        if dashboard_replication is not None:
            self.dashboard = MrapDashboard(
                self, "Dashboard", access_point=self.access_point, replication=dashboard_replication,
                routes=self.routes.dials if self.routes else None, request_metric_buckets=request_metric_buckets,
                dashboard_name=dashboard_name or f"mrap-{mrap_name}", bucket_accounts=bucket_accounts,
            )
        self.trail: DataEventsTrail | None = None
        if cloudtrail_buckets is not None:
            self.trail = DataEventsTrail(self, "Trail", bucket_names=cloudtrail_buckets, removal_policy=removal_policy,
                                         trail_name=trail_name or f"mrap-{mrap_name}-data-events",
                                         include_management_events=cloudtrail_management_events)
        CfnOutput(self, "MrapName", value=mrap_name)
        CfnOutput(self, "MrapAlias", value=self.access_point.alias)
        CfnOutput(self, "MrapArn", value=self.access_point.arn)
        CfnOutput(self, "MrapHostname", value=self.access_point.hostname)
