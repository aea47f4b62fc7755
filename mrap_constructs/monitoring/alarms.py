"""Replication alarms, one set per rule, sent to an SNS topic in the source Region.

CloudWatch alarms can only watch metrics of their own Region, and replication metrics live in the source bucket's
Region, so put ``ReplicationAlarms`` in a stack there (the app's replication stacks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from mrap_constructs._validation import Problems
from mrap_constructs.monitoring.metrics import replication_metrics
from mrap_constructs.naming import partition_of
from mrap_constructs.replication import RTC_MINUTES, ReplicationDestination

#: S3's guidance for alarms on replication metrics, which are published only while there is replication activity:
#: "set the Missing data treatment field to Treat missing data as ignore (maintain the alarm state)".
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html#s3-cloudwatch-replication-metrics
REPLICATION_MISSING_DATA = "ignore"
#: The service principal CloudWatch alarms publish to SNS (and use a topic's KMS key) as.
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


def _alarm_source_conditions(scope: Construct) -> dict:
    """Confused-deputy protection: only alarms of this account and Region (``aws:SourceAccount``/``aws:SourceArn``),
    as the SNS developer guide recommends for service principals."""
    stack = Stack.of(scope)
    alarms = f"arn:{partition_of(stack)}:cloudwatch:{stack.region}:{stack.account}:alarm:*"
    return {"StringEquals": {"aws:SourceAccount": stack.account}, "ArnLike": {"aws:SourceArn": alarms}}


def alarm_topic_key(scope: Construct, id: str) -> kms.Key:
    """A rotating customer managed key for an alarm topic, whose policy lets CloudWatch alarms of this account and
    Region use it (``kms:GenerateDataKey*``, ``kms:Decrypt``). CloudWatch cannot publish to a topic encrypted with
    the AWS managed key ``alias/aws/sns``, whose policy cannot be changed:
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services

    Like every key of this library it is retained when its stack is deleted (``RETAIN``).
    """
    key = kms.Key(scope, id, enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                  description="Encrypts MRAP replication alarm notifications (CloudWatch may use it)")
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsToPublish",
        principals=[iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
        conditions=_alarm_source_conditions(scope),
    ))
    return key


def admit_cloudwatch_alarms(topic: sns.Topic) -> None:
    """Let CloudWatch alarms of this account and Region publish to ``topic`` (its policy replaces the default one).
    The TLS-only deny does not stop them: nobody can publish to a KMS-encrypted topic over plain HTTP
    (https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit)."""
    topic.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudWatchAlarmsToPublish",
        principals=[iam.ServicePrincipal(CLOUDWATCH_PRINCIPAL)],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions=_alarm_source_conditions(topic),
    ))


@dataclass(frozen=True)
class AlarmThresholds:
    """When replication alarms fire. Defaults suit RTC's 15-minute objective.

    Args:
        failed_operations: alarm when more operations than this fail in 5 minutes. Default: 0.
        latency_seconds: alarm when the maximum replication latency exceeds this for 3 periods. Default: 900 (RTC).
        pending_operations: alarm when more operations than this wait for 3 periods. Default: 10,000.
        pending_bytes: alarm when more bytes than this wait for 3 periods. Default: 10 GiB.
        evaluation_periods: periods (5 minutes each) a backlog must persist. Default: 3.
    """

    failed_operations: float = 0
    latency_seconds: float = RTC_MINUTES * 60
    pending_operations: float = 10_000
    pending_bytes: float = 10 * 1024**3
    evaluation_periods: int = 3


class ReplicationAlarms(Construct):
    """Four alarms per replication rule — failures, latency, pending operations, pending bytes — to a topic.

    Args:
        scope: parent construct, in the source bucket's Region.
        id: construct id.
        source_bucket_name: the source bucket.
        destinations: the rules' destinations (rule ids ``to-{region}``).
        thresholds: when to alarm. Default: ``AlarmThresholds()``.
        topic: where alarms go; if it is KMS-encrypted, its key must admit CloudWatch (see ``alarm_topic_key``).
            Default: a new TLS-only topic under a new rotating customer managed key that admits CloudWatch alarms of
            this account (CloudWatch cannot publish to a topic under the AWS managed key ``alias/aws/sns``).
        alarm_email: subscribe this address to a created topic. Default: no subscription.

    Attributes:
        topic, topic_key (the created key, or None with your own topic), alarms (``{rule_id: [alarm, ...]}``).

    Example:
        ReplicationAlarms(stack, "Alarms", source_bucket_name="media-us-east-1",
                          destinations=[ReplicationDestination(region="eu-west-1", bucket_name="media-eu-west-1")])
    """

    def __init__(self, scope: Construct, id: str, *, source_bucket_name: str,
                 destinations: Sequence[ReplicationDestination], thresholds: AlarmThresholds = AlarmThresholds(),
                 topic: sns.ITopic | None = None, alarm_email: str | None = None) -> None:
        super().__init__(scope, id)
        problems = Problems("ReplicationAlarms", id)
        if topic is not None and alarm_email:
            problems.add("alarm_email", alarm_email,
                         "subscribe your own topic yourself, or let the construct create one")
        if thresholds.evaluation_periods < 1:
            problems.add("thresholds.evaluation_periods", thresholds.evaluation_periods, "must be at least 1")
        problems.raise_if_any()
        region = Stack.of(self).region
        self.topic_key: kms.Key | None = None
        if topic is None:
            self.topic_key = alarm_topic_key(self, "TopicKey")
            topic = sns.Topic(self, "Topic", display_name=f"MRAP replication alarms ({source_bucket_name})",
                              enforce_ssl=True, master_key=self.topic_key)
            admit_cloudwatch_alarms(topic)
        self.topic: sns.ITopic = topic
        if alarm_email and isinstance(self.topic, sns.Topic):
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        topic_arn = self.topic.topic_arn
        self.alarms: dict[str, list[cw.CfnAlarm]] = {}
        for dest in sorted(destinations, key=lambda d: d.region):
            rule_id = f"to-{dest.region}"
            metrics = replication_metrics(source_bucket=source_bucket_name, destination_bucket=dest.bucket_name,
                                          rule_id=rule_id, source_region=region)
            specs = [
                ("Failed", metrics.failed_operations, thresholds.failed_operations, 1,
                 f"S3 replication {source_bucket_name} -> {dest.bucket_name} has failed operations"),
                ("Latency", metrics.latency, thresholds.latency_seconds, thresholds.evaluation_periods,
                 f"Replication to {dest.region} is slower than {thresholds.latency_seconds:.0f} s"),
                ("PendingOperations", metrics.pending_operations, thresholds.pending_operations,
                 thresholds.evaluation_periods, f"Replication backlog to {dest.region} (operations)"),
                ("PendingBytes", metrics.pending_bytes, thresholds.pending_bytes, thresholds.evaluation_periods,
                 f"Replication backlog to {dest.region} (bytes)"),
            ]
            # L1 alarms straight from the specs: one construct per alarm (a thousand at 17 Regions) keeps synth fast.
            # No Unit (S3 publishes each metric in one unit; a mismatched unit would leave the alarm without data)
            # and no DatapointsToAlarm (it defaults to EvaluationPeriods: every period must breach).
            self.alarms[rule_id] = [
                cw.CfnAlarm(
                    self, f"{name}{dest.region.replace('-', '')}",
                    namespace=spec.namespace, metric_name=spec.metric_name, statistic=spec.statistic,
                    period=spec.period_seconds,
                    dimensions=[{"name": k, "value": v} for k, v in spec.dimensions],
                    threshold=threshold, evaluation_periods=periods,
                    comparison_operator="GreaterThanThreshold", treat_missing_data=REPLICATION_MISSING_DATA,
                    alarm_description=description, alarm_actions=[topic_arn], ok_actions=[topic_arn],
                )
                for name, spec, threshold, periods, description in specs
            ]
