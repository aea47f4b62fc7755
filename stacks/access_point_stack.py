"""Wave 2: the Multi-Region Access Point and its policy, in the home Region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from mrap_constructs import MultiRegionAccessPoint, MultiRegionAccessPointRoutes, _perms


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
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        failover_active: Sequence[str] | None = None,
        failover_passive: Sequence[str] | None = None,
        routes_region: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id, env=env, description=description)
        self.access_point = MultiRegionAccessPoint(
            self, "AccessPoint", name=mrap_name, buckets=bucket_names, removal_policy=removal_policy
        )
        self.access_point.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowOwningAccountPrincipals",
                principals=[iam.AccountPrincipal(self.account)],
                actions=list(_perms.DELEGATED_BUCKET_ACTIONS),
                resources=[self.access_point.arn, self.access_point.object_arn("*")],
            )
        )
        self.routes: MultiRegionAccessPointRoutes | None = None
        if failover_active is not None:
            self.routes = MultiRegionAccessPointRoutes(
                self, "Routes", access_point=self.access_point, active=failover_active, passive=failover_passive,
                routes_region=routes_region,
            )
            CfnOutput(self, "MrapActiveRegions", value=",".join(r for r, d in self.routes.dials.items() if d))
        CfnOutput(self, "MrapName", value=mrap_name)
        CfnOutput(self, "MrapAlias", value=self.access_point.alias)
        CfnOutput(self, "MrapArn", value=self.access_point.arn)
        CfnOutput(self, "MrapHostname", value=self.access_point.hostname)
