"""Wave 4 (only with ``privatelink.restrict_to_endpoints``): the MRAP policy, limited to the app's VPC endpoints.

The policy must name the endpoints' ids, which exist only after wave 3, so it moves out of the access-point stack
into this home-Region stack. It reads the MRAP alias and each Region's endpoint id at deploy time (SDK calls), then
writes the policy: the owning account's principals may use the MRAP, and data access that does not come through one of
the endpoints is denied (``aws:SourceVpce``); control-plane actions are not, so the owner cannot lock itself out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._nag import acknowledge_all
from mrap_constructs._sdk_call import sdk_call_resource
from mrap_constructs.access_point import MultiRegionAccessPoint, data_access_deny
from mrap_constructs.endpoint import ENDPOINT_TAG
from mrap_constructs.naming import account_root_principal
from mrap_constructs.policy import MultiRegionAccessPointPolicy, owner_sid


class RestrictedPolicyStack(Stack):
    """The MRAP policy that admits the account's principals only through the app's PrivateLink endpoints."""

    def __init__(self, scope: Construct, id: str, *, env: Environment, mrap_name: str, endpoint_regions: Sequence[str],
                 mrap_refresh_key: str | None = None, endpoint_refresh_keys: Mapping[str, str] | None = None,
                 endpoint_stack_names: Mapping[str, str] | None = None,
                 policy_generation: int = 0, description: str | None = None,
                 stack_name: str | None = None) -> None:
        """``mrap_refresh_key`` / ``endpoint_refresh_keys[region]`` change whenever the MRAP / a Region's endpoint may
        have been replaced: the lookups then read the new alias / endpoint id (a deny naming a dead endpoint id would
        block every request). Default: read only when the stack is created.

        ``endpoint_stack_names[region]``: the stack that created the Region's VPC and endpoint. The endpoint is then
        looked up only in that stack's VPC, found by the ``aws:cloudformation:stack-name`` tag CloudFormation puts on
        it (tag keys starting ``aws:`` are reserved for AWS: nobody else can set it), so an endpoint elsewhere that
        carries the ``mrap:name`` tag cannot be chosen and then locked out by the ``aws:SourceVpce`` deny.
        Default: any endpoint carrying the tag."""
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        endpoint_ids = []
        for region in sorted(endpoint_regions):
            filters = [{"Name": f"tag:{ENDPOINT_TAG}", "Values": [mrap_name]}]
            if endpoint_stack_names and region in endpoint_stack_names:
                filters.append({"Name": "vpc-id", "Values": [self._vpc_of(
                    region, endpoint_stack_names[region], (endpoint_refresh_keys or {}).get(region))]})
            lookup = sdk_call_resource(
                self, f"Endpoint{region.replace('-', '')}", resource_type="Custom::MrapEndpointLookup",
                on_update=cr.AwsSdkCall(
                    service="EC2", action="DescribeVpcEndpoints", region=region,
                    parameters={"Filters": filters},
                    physical_resource_id=cr.PhysicalResourceId.of("-".join(filter(None, (
                        f"{mrap_name}-endpoint-{region}", (endpoint_refresh_keys or {}).get(region))))),
                    output_paths=["VpcEndpoints.0.VpcEndpointId"]),
                on_delete=None,
                # EC2 Describe* actions have no resource-level permissions.
                statements=[iam.PolicyStatement(actions=["ec2:DescribeVpcEndpoints"], resources=["*"])],
            )
            endpoint_ids.append(lookup.get_response_field("VpcEndpoints.0.VpcEndpointId"))
        provider_policy = self.node.find_child("SdkCallProvider").node.find_child("Policy")
        acknowledge_all(provider_policy, {
            "AwsSolutions-IAM5[Resource::*]": "ec2:DescribeVpcEndpoints and ec2:DescribeVpcs support no resource-level "
                                              "permissions; they only read this MRAP's VPC and endpoint ids (by tag).",
        })
        access_point = MultiRegionAccessPoint.from_name(self, "AccessPoint", name=mrap_name,
                                                        refresh_key=mrap_refresh_key)
        document = iam.PolicyDocument(statements=[
            iam.PolicyStatement(sid=owner_sid("AllowOwningAccountPrincipals", policy_generation),
                                principals=[account_root_principal(self, self.account)],
                                actions=list(_perms.DELEGATED_BUCKET_ACTIONS),
                                resources=[access_point.arn, access_point.object_arn("*")]),
            data_access_deny("OnlyThroughVpcEndpoints", access_point,
                             {"StringNotEquals": {"aws:SourceVpce": endpoint_ids}}),
        ])
        self.policy = MultiRegionAccessPointPolicy(self, "Policy", mrap_name=mrap_name, document=document)
        CfnOutput(self, "AllowedEndpoints", value=",".join(sorted(endpoint_regions)))

    def _vpc_of(self, region: str, stack_name: str, refresh_key: str | None) -> str:
        """The id of the VPC stack ``stack_name`` created in ``region`` (read at deploy time; CloudFormation tags the
        resources it creates with aws:cloudformation:stack-name:
        https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html)."""
        lookup = sdk_call_resource(
            self, f"Vpc{region.replace('-', '')}", resource_type="Custom::MrapVpcLookup",
            on_update=cr.AwsSdkCall(
                service="EC2", action="DescribeVpcs", region=region,
                parameters={"Filters": [{"Name": "tag:aws:cloudformation:stack-name", "Values": [stack_name]}]},
                physical_resource_id=cr.PhysicalResourceId.of("-".join(filter(None, (
                    f"{stack_name}-vpc", refresh_key)))),
                output_paths=["Vpcs.0.VpcId"]),
            on_delete=None,
            statements=[iam.PolicyStatement(actions=["ec2:DescribeVpcs"], resources=["*"])],
        )
        return lookup.get_response_field("Vpcs.0.VpcId")

