"""A bucket for S3 server access logs (and other audit logs), secure and not logging into itself."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
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


#: The service principal S3 server access logs are delivered as.
LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com"


def send_access_logs(bucket: s3.Bucket, target: s3.IBucket, prefix: str) -> None:
    """Send ``bucket``'s S3 server access logs to ``target`` under ``prefix``, admitted by ``target``'s bucket policy
    (``logging.s3.amazonaws.com``, only for ``bucket`` of this account), whatever the app's feature flags.

    aws-cdk-lib's ``server_access_logs_bucket`` does this only under the feature flag
    ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy``; without it it grants the log-delivery ACL, which a
    ``BucketOwnerEnforced`` target refuses at synth. AWS recommends the bucket policy:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general

    An imported ``target`` keeps its own policy: it must admit the principal itself.
    """
    cfn = bucket.node.default_child
    cfn.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=target.bucket_name, log_file_prefix=prefix)
    target.add_to_resource_policy(iam.PolicyStatement(
        principals=[iam.ServicePrincipal(LOG_DELIVERY_PRINCIPAL)],
        actions=["s3:PutObject"],
        resources=[target.arn_for_objects(f"{prefix}*")],
        conditions={"ArnLike": {"aws:SourceArn": bucket.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Stack.of(bucket).account}},
    ))
