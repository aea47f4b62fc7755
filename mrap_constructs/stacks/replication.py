"""Wave 2: per source Region, the replication role and the configuration applied to the bucket."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, CfnOutput, Environment, Stack
from constructs import Construct

from mrap_constructs.monitoring import AlarmThresholds, ReplicationAlarms
from mrap_constructs.replication import BucketReplication, ReplicationDestination, ReplicationOptions


class ReplicationStack(Stack):
    """Applies the source bucket's replication rules; deploys after every bucket stack."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        source_bucket_name: str,
        destinations: Sequence[ReplicationDestination],
        options: ReplicationOptions,
        source_kms_key_arn: str | None = None,
        role_name: str | None = None,
        existing_bucket: bool = False,
        alarms: AlarmThresholds | None = None,
        alarm_email: str | None = None,
        alarms_per_rule: bool = False,
        dashboard_name: str | None = None,
        dashboard_region: str | None = None,
        description: str | None = None, stack_name: str | None = None,
    ) -> None:
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        self.replication = BucketReplication(
            self,
            "Replication",
            source_bucket=source_bucket_name,
            destinations=destinations,
            options=options,
            source_kms_key_arn=source_kms_key_arn,
            role_name=role_name,
        )
        if existing_bucket:
            warn_existing_bucket(self, source_bucket_name, replication_replaced=True)
        self.alarms: ReplicationAlarms | None = None
        if alarms is not None and destinations:
            self.alarms = ReplicationAlarms(self, "Alarms", source_bucket_name=source_bucket_name,
                                            destinations=destinations, thresholds=alarms, alarm_email=alarm_email,
                                            per_rule=alarms_per_rule, dashboard_name=dashboard_name,
                                            dashboard_region=dashboard_region)
            CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn)
        if self.replication.role is not None:
            CfnOutput(self, "ReplicationRoleArn", value=self.replication.role.role_arn)
        CfnOutput(self, "ReplicationDestinations", value=",".join(d.region for d in destinations) or "none")


def warn_existing_bucket(scope: Construct, bucket_name: str, *, replication_replaced: bool) -> None:
    """Warn (``mrap:ExistingBucketUnverified``) on ``scope`` that what the existing bucket must have cannot be checked
    at synth; ``replication_replaced``: say that its replication configuration is replaced."""
    Annotations.of(scope).add_warning_v2(
        "mrap:ExistingBucketUnverified",
        f"{bucket_name} is an existing bucket: versioning must be enabled, public access blocked, and its policy "
        "must delegate to access points of the MRAP account (s3:DataAccessPointAccount)"
        + ("; its replication configuration is replaced by this stack." if replication_replaced else "."),
    )
