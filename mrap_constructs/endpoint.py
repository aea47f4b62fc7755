"""PrivateLink to a Multi-Region Access Point: an interface VPC endpoint for ``com.amazonaws.s3-global.accesspoint``.

Limits (AWS): gateway endpoints do not work with MRAPs (interface endpoints only); clients still sign with
SigV4A; IPv6 is not supported.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.access_point import IMultiRegionAccessPoint
from mrap_constructs.naming import account_problem

#: The PrivateLink service of MRAPs (one global name, no Region in it).
SERVICE_NAME = "com.amazonaws.s3-global.accesspoint"
#: Tag the app puts on its endpoints (value: the MRAP name), so later stacks can find their ids.
ENDPOINT_TAG = "mrap:name"


class MultiRegionAccessPointEndpoint(Construct):
    """An interface endpoint that lets a VPC reach one MRAP privately, and only that MRAP and its buckets.

    Default settings: private DNS on (the MRAP hostname resolves to the endpoint inside the VPC); a security group
    that admits HTTPS (443) from the VPC's CIDR only and no egress; an endpoint policy allowing object and list
    actions on the MRAP ARN (alias form) and its buckets — nothing else — for principals of the given accounts.

    Args:
        scope: parent construct, in the VPC's Region.
        id: construct id.
        vpc: the VPC (an ``ec2.IVpc``, yours or the app's minimal one).
        access_point: the MRAP (``MultiRegionAccessPoint`` or ``MultiRegionAccessPoint.from_alias``).
        bucket_names: the MRAP's buckets, allowed in the endpoint policy (direct bucket access through the endpoint).
        subnets: where the endpoint's network interfaces go. Default: the VPC's private subnets, one per AZ.
        allowed_peers: who may connect on 443. Default: the VPC's CIDR.
        principal_accounts: accounts whose principals may use the endpoint. Default: the stack's account.
        private_dns: resolve the MRAP hostname to the endpoint. Default: True.

    Attributes:
        endpoint, security_group, endpoint_id.

    Raises:
        ValueError: no buckets, an empty peer list, or an invalid account id.

    Example:
        MultiRegionAccessPointEndpoint(stack, "Endpoint", vpc=vpc, access_point=mrap,
                                       bucket_names=["media-111122223333-us-east-1"])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        access_point: IMultiRegionAccessPoint,
        bucket_names: Sequence[str],
        subnets: ec2.SubnetSelection | None = None,
        allowed_peers: Sequence[ec2.IPeer] | None = None,
        principal_accounts: Sequence[str] | None = None,
        private_dns: bool = True,
    ) -> None:
        super().__init__(scope, id)
        problems = Problems("MultiRegionAccessPointEndpoint", id)
        if not bucket_names:
            problems.add("bucket_names", list(bucket_names), "list the MRAP's buckets")
        if allowed_peers is not None and not allowed_peers:
            problems.add("allowed_peers", [], "give at least one peer, or omit it for the VPC's CIDR")
        for account in principal_accounts or []:
            if not is_unresolved(account) and (why := account_problem(account)):
                problems.add("principal_accounts", account, why)
        problems.raise_if_any()

        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"HTTPS to the MRAP endpoint ({SERVICE_NAME})",
        )
        for peer in allowed_peers or [ec2.Peer.ipv4(vpc.vpc_cidr_block)]:
            self.security_group.add_ingress_rule(peer, ec2.Port.tcp(443), "HTTPS to the MRAP endpoint")
        self.endpoint = ec2.InterfaceVpcEndpoint(
            self, "Resource", vpc=vpc, service=ec2.InterfaceVpcEndpointService(SERVICE_NAME, 443),
            private_dns_enabled=private_dns, security_groups=[self.security_group], open=False,
            subnets=subnets or ec2.SubnetSelection(one_per_az=True,
                                                   subnet_type=_private_subnet_type(vpc)),
        )
        accounts = list(principal_accounts or [Stack.of(self).account])
        bucket_arns = [f"arn:aws:s3:::{name}" for name in bucket_names]
        self.endpoint.add_to_policy(iam.PolicyStatement(
            sid="OnlyThisMrapAndItsBuckets",
            principals=[iam.AnyPrincipal()],
            actions=list(_perms.DELEGATED_BUCKET_ACTIONS),
            resources=[access_point.arn, access_point.object_arn("*"), *bucket_arns, *(f"{a}/*" for a in bucket_arns)],
            conditions={"StringEquals": {"aws:PrincipalAccount": accounts}},
        ))
        self.endpoint_id: str = self.endpoint.vpc_endpoint_id


def _private_subnet_type(vpc: ec2.IVpc) -> ec2.SubnetType:
    return ec2.SubnetType.PRIVATE_ISOLATED if vpc.isolated_subnets else ec2.SubnetType.PRIVATE_WITH_EGRESS
