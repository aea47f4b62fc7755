"""An audit trail of who did what through the MRAP: CloudTrail S3 data events on its buckets."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs._nag import acknowledge_compliance
from mrap_constructs.log_bucket import AccessLogBucket


class DataEventsTrail(Construct):
    """A multi-Region trail logging S3 data events (object reads and writes) on the MRAP's buckets — requests
    through the MRAP included — plus management events, to a locked-down bucket and CloudWatch Logs.

    The trail bucket is versioned, private, TLS-only and logs its own access to a log bucket; the trail is encrypted
    with a rotating KMS key and validates its log files. Data events are billed per event: opt-in.

    Args:
        scope: parent construct (the home Region).
        id: construct id.
        bucket_names: ``{region: bucket_name}`` whose object-level events are logged.
        removal_policy: for the trail bucket, log bucket and key. Default: ``RETAIN``.
        log_retention: CloudWatch Logs retention. Default: one year.

    Attributes:
        trail, bucket, encryption_key.

    Example:
        DataEventsTrail(stack, "Trail", bucket_names={"us-east-1": "media-us-east-1"})
    """

    def __init__(self, scope: Construct, id: str, *, bucket_names: Mapping[str, str],
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR) -> None:
        super().__init__(scope, id)
        access_logs = AccessLogBucket(self, "AccessLogs", removal_policy=removal_policy)
        self.encryption_key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=removal_policy,
                                      description="Encrypts the MRAP data-events trail")
        self.bucket = s3.Bucket(
            self, "Bucket", versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs.bucket, server_access_logs_prefix="trail-bucket/",
            removal_policy=removal_policy, auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        acknowledge_compliance(self.bucket, "S3BucketReplicationEnabled",
                               "CloudTrail already records every Region into this one bucket.")
        acknowledge_compliance(self.bucket, "S3DefaultEncryptionKMS",
                               "Log files are encrypted by CloudTrail with the trail's KMS key before delivery.")
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        acknowledge_compliance(log_group, "CloudWatchLogGroupEncrypted",
                               "The same events are stored KMS-encrypted in the trail bucket.")
        self.trail = cloudtrail.Trail(
            self, "Resource", bucket=self.bucket, encryption_key=self.encryption_key, is_multi_region_trail=True,
            include_global_service_events=True, enable_file_validation=True, send_to_cloud_watch_logs=True,
            cloud_watch_log_group=log_group,
        )
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=s3.Bucket.from_bucket_name(self, f"Data{r.replace('-', '')}", name))
             for r, name in sorted(bucket_names.items())],
            include_management_events=True,
        )
        logs_role = self.trail.node.find_child("LogsRole")
        # Confused-deputy protection: CloudTrail may assume the logs role only on behalf of this account.
        logs_role.node.default_child.add_property_override(
            "AssumeRolePolicyDocument.Statement.0.Condition",
            {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        )
        acknowledge_compliance(
            logs_role.node.find_child("DefaultPolicy"), "IAMNoInlinePolicy",
            "aws-cdk-lib's trail role policy: only logs:CreateLogStream/PutLogEvents on this trail's log group.")
