"""Wave 3 (with PrivateLink only): a minimal VPC and the MRAP interface endpoint in one Region."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from mrap_constructs import _paths
from mrap_constructs._nag import acknowledge_compliance
from mrap_constructs.access_point import MultiRegionAccessPoint
from mrap_constructs.endpoint import ENDPOINT_TAG, MultiRegionAccessPointEndpoint


class PrivateLinkStack(Stack):
    """A VPC with private isolated subnets in 2 AZs (no NAT, no internet gateway, flow logs on) and the MRAP's
    interface endpoint. The MRAP's alias is read at deploy time (``GetMultiRegionAccessPoint`` in us-west-2), so the
    endpoint policy names the exact MRAP ARN without a cross-Region reference."""

    def __init__(self, scope: Construct, id: str, *, env: Environment, mrap_name: str, bucket_names: Sequence[str],
                 vpc_cidr: str, availability_zones: Sequence[str] | None = None,
                 mrap_refresh_key: str | None = None, description: str | None = None,
                 stack_name: str | None = None) -> None:
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        if availability_zones and not Token.is_unresolved(self.account):
            # What `cdk.context.json` would hold after a lookup: given AZs need no credentials at synth.
            self.node.set_context(f"availability-zones:account={self.account}:region={self.region}",
                                  list(availability_zones))
        flow_logs = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR,
                                  removal_policy=RemovalPolicy.DESTROY)
        acknowledge_compliance(flow_logs, "CloudWatchLogGroupEncrypted",
                               "VPC flow logs hold connection metadata of an endpoint-only VPC, no object data.")
        self.vpc = ec2.Vpc(
            self, "Vpc", ip_addresses=ec2.IpAddresses.cidr(vpc_cidr), nat_gateways=0,
            restrict_default_security_group=True,  # explicit: otherwise a feature flag decides
            # Given AZs avoid a context lookup (which needs credentials when the account is known).
            **({"availability_zones": list(availability_zones)} if availability_zones else {"max_azs": 2}),
            subnet_configuration=[ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                                                          cidr_mask=24)],
            flow_logs={"FlowLogs": ec2.FlowLogOptions(
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))},
        )
        # Vpc tags itself, its subnets and its flow log Name=PATH: keep the path they had before MrapSet (see _paths).
        if _paths.moved(self.vpc):
            for tagged in [self.vpc, *self.vpc.isolated_subnets, self.vpc.node.find_child("FlowLogs")]:
                Tags.of(tagged).add("Name", "/".join(_paths.stable_path(tagged)))
        flow_log_role = self.vpc.node.find_child("FlowLogs").node.find_child("IAMRole")
        # Confused-deputy protection: the flow-logs service may assume the role only for this account.
        flow_log_role.node.default_child.add_property_override(
            "AssumeRolePolicyDocument.Statement.0.Condition", {"StringEquals": {"aws:SourceAccount": self.account}})
        acknowledge_compliance(
            flow_log_role.node.find_child("DefaultPolicy"),
            "IAMNoInlinePolicy", "aws-cdk-lib's flow-log role: only writes to this VPC's flow-log group.")
        # The alias is read again whenever the MRAP may have been replaced (mrap_refresh_key changes).
        access_point = MultiRegionAccessPoint.from_name(self, "AccessPoint", name=mrap_name,
                                                        refresh_key=mrap_refresh_key)
        self.endpoint = MultiRegionAccessPointEndpoint(
            self, "Endpoint", vpc=self.vpc, access_point=access_point, bucket_names=bucket_names,
            allowed_peers=[ec2.Peer.ipv4(vpc_cidr)])  # the literal CIDR, so scanners can read the rule
        # The restricted MRAP policy (wave 4) finds this endpoint by its tag.
        Tags.of(self.endpoint.endpoint).add(ENDPOINT_TAG, mrap_name)
        CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        CfnOutput(self, "EndpointId", value=self.endpoint.endpoint_id)

