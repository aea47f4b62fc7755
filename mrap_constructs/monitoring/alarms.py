"""Replication alarms of a source bucket — per source (the default) or per rule — sent to an SNS topic in the source
Region.

CloudWatch alarms can only watch metrics of their own Region, and replication metrics live in the source bucket's
Region, so put ``ReplicationAlarms`` in a stack there (the app's replication stacks).

A full mesh of N Regions has N(N-1) rules: one alarm per rule and failure kind is 1,088 alarms at 17 Regions. Per
source, each failure kind is one metric-math alarm over the highest value of that source's rules,
``MAX([m0, m1, ...])``: "some rule is over the threshold" is exactly "the highest rule is over it", so every rule's
failure still reaches an alarm. A metric-math alarm references at most 10 metrics (a hard limit), so a source with
more than 10 destinations gets two alarms per kind: at most 8 per source, 136 at 17 Regions.

CloudWatch bills alarms per *alarm metric*, so a metric-math alarm over 8 rules costs what 8 single-metric alarms
cost: grouping shrinks the alarm count (templates, deploys, notifications), not the alarm bill. See
``mrap_constructs.cost``.
"""

from __future__ import annotations

import math
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
from mrap_constructs.monitoring.metrics import MetricSpec, ReplicationMetrics, replication_metrics
from mrap_constructs.naming import partition_of
from mrap_constructs.replication import RTC_MINUTES, ReplicationDestination
from mrap_constructs.replication import rule_id as rule_id_of

#: S3's guidance for alarms on replication metrics, which are published only while there is replication activity:
#: "set the Missing data treatment field to Treat missing data as ignore (maintain the alarm state)".
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html#s3-cloudwatch-replication-metrics
REPLICATION_MISSING_DATA = "ignore"
#: The service principal CloudWatch alarms publish to SNS (and use a topic's KMS key) as.
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
#: "Alarms based on metric math expressions can reference a maximum of 10 metrics. This is a hard limit":
#: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html#metric-math-alarm-limits
MAX_METRICS_PER_ALARM = 10
#: The id of the expression a per-source alarm watches (metric-math ids start with a lowercase letter).
HIGHEST_ID = "highest"


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


@dataclass(frozen=True)
class _Kind:
    """One failure kind: construct id prefix, ``ReplicationMetrics`` field, threshold, periods, what breaching means."""

    name: str
    field: str
    threshold: float
    periods: int
    breach: str

    def metric(self, metrics: ReplicationMetrics) -> MetricSpec:
        return getattr(metrics, self.field)


def _amount(value: float) -> str:
    """A threshold as people read it: ``10,000``, ``10,737,418,240``, ``0.5``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _kinds(thresholds: AlarmThresholds) -> list[_Kind]:
    periods = thresholds.evaluation_periods
    window = f"for {periods} periods of 5 minutes"
    return [
        _Kind("Failed", "failed_operations", thresholds.failed_operations, 1,
              f"more than {_amount(thresholds.failed_operations)} failed operations in 5 minutes"),
        _Kind("Latency", "latency", thresholds.latency_seconds, periods,
              f"latency above {_amount(thresholds.latency_seconds)} s {window}"),
        _Kind("PendingOperations", "pending_operations", thresholds.pending_operations, periods,
              f"more than {_amount(thresholds.pending_operations)} operations pending {window}"),
        _Kind("PendingBytes", "pending_bytes", thresholds.pending_bytes, periods,
              f"more than {_amount(thresholds.pending_bytes)} bytes pending {window}"),
    ]


def chunked(items: Sequence, size: int = MAX_METRICS_PER_ALARM) -> list[list]:
    """``items`` in as few consecutive groups of at most ``size`` as possible, of near-equal length (16 -> 8 + 8)."""
    if not items:
        return []
    groups = math.ceil(len(items) / size)
    step = math.ceil(len(items) / groups)
    return [list(items[i:i + step]) for i in range(0, len(items), step)]


def metric_query(id: str, spec: MetricSpec, label: str) -> dict:
    """``spec`` as one ``MetricDataQuery`` of an alarm's ``Metrics`` (retrieved, not returned)."""
    return {"id": id, "label": label, "returnData": False, "metricStat": {
        "metric": {"namespace": spec.namespace, "metricName": spec.metric_name,
                   "dimensions": [{"name": k, "value": v} for k, v in spec.dimensions]},
        "period": spec.period_seconds, "stat": spec.statistic}}


class ReplicationAlarms(Construct):
    """Replication alarms of one source bucket — failures, latency, pending operations, pending bytes — to a topic.

    By default per source: each failure kind is a metric-math alarm on the highest value over the source's rules
    (``MAX([...])`` of at most ``MAX_METRICS_PER_ALARM`` rules; two alarms per kind beyond 10 destinations), whose
    description says how to find the rule that breached. With ``per_rule=True``, four single-metric alarms per rule
    (what earlier versions created; fine for small meshes). Both detect the same failures: a rule over its threshold
    is the highest rule over it. Missing data is ignored in both (``REPLICATION_MISSING_DATA``).

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
        per_rule: one alarm per rule and failure kind instead of per source. Default: False.
        dashboard_name: the dashboard showing this source's rules, named in each per-source alarm's description.
            Default: none (the description points at the alarm's own graph, one line per rule).
        dashboard_region: the Region of ``dashboard_name``. Default: this stack's Region.

    Attributes:
        topic, topic_key (the created key, or None with your own topic), alarms (``{rule_id: [every alarm watching
        that rule]}``; per source, rules share their alarms), all_alarms (every alarm once, in creation order).

    Raises:
        ValueError: ``alarm_email`` with your own ``topic``; ``thresholds.evaluation_periods`` below 1.

    Example:
        ReplicationAlarms(stack, "Alarms", source_bucket_name="media-us-east-1",
                          destinations=[ReplicationDestination(region="eu-west-1", bucket_name="media-eu-west-1")])
    """

    def __init__(self, scope: Construct, id: str, *, source_bucket_name: str,
                 destinations: Sequence[ReplicationDestination], thresholds: AlarmThresholds = AlarmThresholds(),
                 topic: sns.ITopic | None = None, alarm_email: str | None = None, per_rule: bool = False,
                 dashboard_name: str | None = None, dashboard_region: str | None = None) -> None:
        super().__init__(scope, id)
        problems = Problems("ReplicationAlarms", id)
        if topic is not None and alarm_email:
            problems.add("alarm_email", alarm_email,
                         "subscribe your own topic yourself, or let the construct create one")
        if thresholds.evaluation_periods < 1:
            problems.add("thresholds.evaluation_periods", thresholds.evaluation_periods, "must be at least 1")
        if dashboard_region and not dashboard_name:
            problems.add("dashboard_region", dashboard_region, "give dashboard_name too, or drop dashboard_region")
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
        self._topic_arn = self.topic.topic_arn
        self._source_bucket = source_bucket_name
        self._dashboard = (dashboard_name, dashboard_region or region) if dashboard_name else None
        self._region = region
        self._partition = partition_of(Stack.of(self))
        self.alarms: dict[str, list[cw.CfnAlarm]] = {}
        self.all_alarms: list[cw.CfnAlarm] = []
        rules = [(rule_id_of(dest.region), dest, replication_metrics(
            source_bucket=source_bucket_name, destination_bucket=dest.bucket_name, rule_id=rule_id_of(dest.region),
            source_region=region)) for dest in sorted(destinations, key=lambda d: d.region)]
        kinds = _kinds(thresholds)
        if per_rule:
            for rule_id, dest, metrics in rules:
                self.alarms[rule_id] = [self._rule_alarm(kind, dest, metrics, thresholds) for kind in kinds]
            return
        for rule_id, _, _ in rules:
            self.alarms[rule_id] = []
        for kind in kinds:
            for index, group in enumerate(chunked(rules)):
                alarm = self._source_alarm(kind, group, f"{kind.name}{index + 1 if index else ''}")
                for rule_id, _, _ in group:
                    self.alarms[rule_id].append(alarm)

    def _alarm(self, id: str, description: str, kind: _Kind, **metric: object) -> cw.CfnAlarm:
        # L1 alarms: one construct per alarm keeps synth fast. No Unit (S3 publishes each metric in one unit; a
        # mismatched unit would leave the alarm without data) and no DatapointsToAlarm (it defaults to
        # EvaluationPeriods: every period must breach).
        alarm = cw.CfnAlarm(self, id, threshold=kind.threshold, evaluation_periods=kind.periods,
                            comparison_operator="GreaterThanThreshold", treat_missing_data=REPLICATION_MISSING_DATA,
                            alarm_description=description, alarm_actions=[self._topic_arn],
                            ok_actions=[self._topic_arn], **metric)
        self.all_alarms.append(alarm)
        return alarm

    def _rule_alarm(self, kind: _Kind, dest: ReplicationDestination, metrics: ReplicationMetrics,
                    thresholds: AlarmThresholds) -> cw.CfnAlarm:
        spec = kind.metric(metrics)
        description = {
            "Failed": f"S3 replication {self._source_bucket} -> {dest.bucket_name} has failed operations",
            "Latency": f"Replication to {dest.region} is slower than {thresholds.latency_seconds:.0f} s",
            "PendingOperations": f"Replication backlog to {dest.region} (operations)",
            "PendingBytes": f"Replication backlog to {dest.region} (bytes)",
        }[kind.name]
        return self._alarm(f"{kind.name}{dest.region.replace('-', '')}", description, kind,
                           namespace=spec.namespace, metric_name=spec.metric_name, statistic=spec.statistic,
                           period=spec.period_seconds, dimensions=[{"name": k, "value": v} for k, v in spec.dimensions])

    def _source_alarm(self, kind: _Kind, group: list[tuple[str, ReplicationDestination, ReplicationMetrics]],
                      id: str) -> cw.CfnAlarm:
        queries = [metric_query(f"m{i}", kind.metric(metrics), rule_id)
                   for i, (rule_id, _, metrics) in enumerate(group)]
        ids = ",".join(q["id"] for q in queries)
        # MAX over an array of time series is, at each timestamp, the highest rule's value: over the threshold
        # exactly when some rule is (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
        queries.append({"id": HIGHEST_ID, "expression": f"MAX([{ids}])", "returnData": True,
                        "label": f"highest {kind.metric(group[0][2]).metric_name} of {len(group)} rules"})
        regions = ", ".join(dest.region for _, dest, _ in group)
        return self._alarm(id, f"S3 replication from {self._source_bucket}: {kind.breach} on a rule to {regions}. "
                               f"Which destination: {self._where_to_look()}", kind, metrics=queries)

    def _where_to_look(self) -> str:
        hint = "the alarm's graph has one line per rule, labelled with its rule id (to-REGION)"
        if self._dashboard is None:
            return hint + "."
        name, region = self._dashboard
        link = (f" https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"
                if self._partition == "aws" else "")
        return (f"{hint}; or dashboard {name} ({region}), row 'from {self._region}', "
                f"one line per destination:{link}")
