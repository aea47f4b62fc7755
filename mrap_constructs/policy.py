"""The MRAP policy: ``AWS::S3::MultiRegionAccessPointPolicy`` with a policy document (as aws-s3's ``BucketPolicy``)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.naming import mrap_name_problem


class MultiRegionAccessPointPolicy(Construct):
    """The resource policy of one MRAP, named by its MRAP name (or a reference to the MRAP, which also orders it).

    An MRAP policy can be replaced but not deleted
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html): when
    CloudFormation deletes the resource it *resets* the policy to admit only the owning account
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-multiregionaccesspointpolicy.html).
    So the resource is always retained (DeletionPolicy and UpdateReplacePolicy ``Retain``): when the policy moves to
    another stack (``restrict_to_endpoints`` or ``cloudfront`` toggled) or a stack holding it is deleted, the policy
    the new owner wrote stays. Statements name the MRAP by its alias ARN (``IMultiRegionAccessPoint.arn`` /
    ``object_arn()``).

    Args:
        scope: parent construct (any Region: the policy is global).
        id: construct id.
        mrap_name: the MRAP's name, or ``MultiRegionAccessPoint.resource.ref``.
        document: the policy document. Default: an empty one; add statements with ``document.add_statements``.

    Attributes:
        document, resource (the L1).

    Raises:
        ValueError: an invalid MRAP name.

    Example:
        policy = MultiRegionAccessPointPolicy(stack, "Policy", mrap_name="media")
        policy.document.add_statements(iam.PolicyStatement(
            principals=[iam.AccountPrincipal("111122223333")], actions=["s3:GetObject"],
            resources=[mrap.object_arn("*")]))
    """

    def __init__(self, scope: Construct, id: str, *, mrap_name: str,
                 document: iam.PolicyDocument | None = None) -> None:
        super().__init__(scope, id)
        problems = Problems("MultiRegionAccessPointPolicy", id)
        if not is_unresolved(mrap_name) and (why := mrap_name_problem(mrap_name)):
            problems.add("mrap_name", mrap_name, why)
        problems.raise_if_any()
        self.document: iam.PolicyDocument = document or iam.PolicyDocument()
        # Child id "Default", not "Resource": it keeps the logical id of the policy written before this construct
        # existed (a new logical id would replace the policy resource in deployed stacks).
        self.resource = s3.CfnMultiRegionAccessPointPolicy(self, "Default", mrap_name=mrap_name, policy=self.document)
        self.resource.apply_removal_policy(RemovalPolicy.RETAIN)

    def add_statements(self, *statements: iam.PolicyStatement) -> None:
        """Add ``statements`` to the document."""
        self.document.add_statements(*statements)


def owner_sid(sid: str, generation: int = 0) -> str:
    """``sid`` with the policy-owner generation as suffix (``G{n}``; none for 0): see ``MrapSet(policy_generation)``."""
    return f"{sid}G{generation}" if generation else sid
