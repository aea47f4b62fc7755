"""The stacks ``MrapSet`` deploys, one module per kind (each only composes the library's constructs).

Wave 1 ``RegionalBucketStack``; wave 2 ``ReplicationStack`` and ``AccessPointStack``; wave 3 ``PrivateLinkStack``,
``CloudFrontStack`` and ``BackfillStack``; wave 4 ``RestrictedPolicyStack``. Use ``MrapSet`` to get them in the right
order; use a class directly only to build a different composition.
"""

from mrap_constructs.stacks.access_point import AccessPointStack
from mrap_constructs.stacks.backfill import BackfillStack
from mrap_constructs.stacks.bucket import RegionalBucketStack
from mrap_constructs.stacks.cloudfront import CloudFrontStack
from mrap_constructs.stacks.policy import RestrictedPolicyStack
from mrap_constructs.stacks.privatelink import PrivateLinkStack
from mrap_constructs.stacks.replication import ReplicationStack, warn_existing_bucket

__all__ = ["AccessPointStack", "BackfillStack", "CloudFrontStack", "PrivateLinkStack", "RegionalBucketStack",
           "ReplicationStack",
           "RestrictedPolicyStack", "warn_existing_bucket"]
