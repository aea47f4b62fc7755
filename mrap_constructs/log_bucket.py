"""A bucket for S3 server access logs (and other audit logs), secure and not logging into itself."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs._nag import acknowledge_all, compliance


class AccessLogBucket(Construct):
    """Versioned, private, TLS-only, SSE-S3 (the only encryption S3 log delivery supports), ACLs off.

    Args:
        scope: parent construct (one per Region: access logs must stay in the source bucket's Region).
        id: construct id.
        removal_policy: Default: ``RETAIN`` (audit data). ``DESTROY`` also empties the bucket first.

    Attributes:
        bucket.

    Example:
        logs = AccessLogBucket(stack, "AccessLogs")
        MrapBucket(stack, "Bucket", server_access_logs_bucket=logs.bucket)
    """

    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Resource",
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        loop = "This is the access-log bucket; logging it into itself would loop."
        acknowledge_all(self.bucket, {
            "AwsSolutions-S1": loop,
            **compliance("S3BucketLoggingEnabled", loop),
            **compliance("S3BucketReplicationEnabled",
                         "Access logs are per-Region audit data; they are not replicated."),
            **compliance("S3DefaultEncryptionKMS", "S3 server access logging delivers only to SSE-S3 buckets."),
        })
