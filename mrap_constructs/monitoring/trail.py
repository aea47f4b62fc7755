"""An audit trail of who did what through the MRAP: CloudTrail S3 data events on its buckets."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Names, RemovalPolicy, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs._nag import acknowledge_compliance
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.log_bucket import AccessLogBucket, send_access_logs
from mrap_constructs.naming import partition_of

_TRAIL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,126})[A-Za-z0-9]")
#: CloudTrail's service principal.
CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"


def admit_cloudtrail(key: kms.IKey, trail_name: str) -> None:
    """Let CloudTrail encrypt the logs of trail ``trail_name`` (this stack's account and Region) with ``key``, and
    describe the key: without both, ``CreateTrail`` fails with ``InsufficientEncryptionPolicyException``. The
    statements are AWS's, with the recommended ``aws:SourceArn`` condition:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
    """
    stack = Stack.of(key)
    trails = f"arn:{partition_of(stack)}:cloudtrail:*:{stack.account}:trail/*"
    trail_arn = f"arn:{partition_of(stack)}:cloudtrail:{stack.region}:{stack.account}:trail/{trail_name}"
    this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudTrailToEncryptLogs", principals=[iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL)],
        actions=["kms:GenerateDataKey*"], resources=["*"],
        conditions={**this_trail, "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": trails}},
    ))
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudTrailToDescribeKey", principals=[iam.ServicePrincipal(CLOUDTRAIL_PRINCIPAL)],
        actions=["kms:DescribeKey"], resources=["*"], conditions=this_trail,
    ))


class DataEventsTrail(Construct):
    """A multi-Region trail logging S3 data events (object reads and writes) on the MRAP's buckets — requests
    through the MRAP included — and, on request, management events, to a locked-down bucket and CloudWatch Logs.

    The trail bucket is versioned, private, TLS-only and logs its own access to a log bucket; the trail is encrypted
    with a rotating KMS key and validates its log files. Data events are billed per event: opt-in.

    Args:
        scope: parent construct (the home Region).
        id: construct id.
        bucket_names: ``{region: bucket_name}`` whose object-level events are logged.
        trail_name: the trail's name (the key policy names the trail's ARN). Default: derived from the construct path.
        removal_policy: for the trail bucket, log bucket and key. Default: ``RETAIN``.
        log_retention: CloudWatch Logs retention. Default: one year.
        include_management_events: also log management events. An account's first trail copy of management
            events is free; any further copy is billed per event (https://aws.amazon.com/cloudtrail/pricing/), and
            most accounts already have a trail (or an organization trail) for them. Default: False (data events only).

    Attributes:
        trail, trail_name, bucket, encryption_key (its policy admits CloudTrail for this trail only).

    Example:
        DataEventsTrail(stack, "Trail", bucket_names={"us-east-1": "media-us-east-1"})
    """

    def __init__(self, scope: Construct, id: str, *, bucket_names: Mapping[str, str],
                 trail_name: str | None = None,
                 removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
                 include_management_events: bool = False) -> None:
        super().__init__(scope, id)
        problems = Problems("DataEventsTrail", id)
        if trail_name is not None and not is_unresolved(trail_name) and not _TRAIL_NAME.fullmatch(trail_name):
            problems.add("trail_name", trail_name, "3-128 letters, digits, '.', '_' or '-', starting and ending with "
                         "a letter or digit")
        problems.raise_if_any()
        self.trail_name: str = trail_name or Names.unique_id(self)[-128:]
        access_logs = AccessLogBucket(self, "AccessLogs", removal_policy=removal_policy)
        self.encryption_key = kms.Key(self, "Key", enable_key_rotation=True, removal_policy=removal_policy,
                                      description="Encrypts the MRAP data-events trail")
        admit_cloudtrail(self.encryption_key, self.trail_name)
        self.bucket = s3.Bucket(
            self, "Bucket", versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy, auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        send_access_logs(self.bucket, access_logs.bucket, "trail-bucket/")
        acknowledge_compliance(self.bucket, "S3BucketReplicationEnabled",
                               "CloudTrail already records every Region into this one bucket.")
        acknowledge_compliance(self.bucket, "S3DefaultEncryptionKMS",
                               "Log files are encrypted by CloudTrail with the trail's KMS key before delivery.")
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=removal_policy)
        acknowledge_compliance(log_group, "CloudWatchLogGroupEncrypted",
                               "The same events are stored KMS-encrypted in the trail bucket.")
        self.trail = cloudtrail.Trail(
            self, "Resource", trail_name=self.trail_name, bucket=self.bucket, encryption_key=self.encryption_key,
            is_multi_region_trail=True,
            include_global_service_events=True, enable_file_validation=True, send_to_cloud_watch_logs=True,
            cloud_watch_log_group=log_group,
        )
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=s3.Bucket.from_bucket_name(self, f"Data{r.replace('-', '')}", name))
             for r, name in sorted(bucket_names.items())],
            include_management_events=include_management_events,
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
