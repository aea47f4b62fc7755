"""Monitoring: metric factories, alarms per source (or per rule), the dashboard, log buckets, the data-events
trail."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from mrap_constructs import ReplicationDestination
from mrap_constructs.monitoring import AlarmThresholds, ReplicationAlarms, replication_metrics, request_metrics
from tests.conftest import ACCOUNT, new_stack, regions
from tests.unit.test_app import SCENARIOS


def test_replication_metrics_have_rule_dimensions_and_source_region():
    m = replication_metrics(source_bucket="src", destination_bucket="dst", rule_id="to-eu-west-1",
                            source_region="us-east-1")
    for metric, name, statistic in [(m.latency, "ReplicationLatency", "Maximum"),
                                    (m.pending_operations, "OperationsPendingReplication", "Maximum"),
                                    (m.pending_bytes, "BytesPendingReplication", "Maximum"),
                                    (m.failed_operations, "OperationsFailedReplication", "Sum")]:
        assert (metric.namespace, metric.metric_name, metric.statistic) == ("AWS/S3", name, statistic)
        assert metric.dimensions_map == {"SourceBucket": "src", "DestinationBucket": "dst", "RuleId": "to-eu-west-1"}
        assert metric.region == "us-east-1"
        rendered = metric.to_metric()
        assert (rendered.metric_name, rendered.region, rendered.dimensions) == (name, "us-east-1",
                                                                               metric.dimensions_map)


def test_request_metrics_use_the_bucket_filter_and_region():
    metrics = request_metrics(bucket="b", region="eu-west-1")
    assert set(metrics) == {"4xxErrors", "5xxErrors", "FirstByteLatency"}
    assert all(m.dimensions_map == {"BucketName": "b", "FilterId": "EntireBucket"} and m.region == "eu-west-1"
               for m in metrics.values())


def test_replication_search_is_one_expression_per_source_in_its_region():
    from mrap_constructs.monitoring import replication_search

    expression = replication_search(source_bucket="src", source_region="eu-west-1", metric_name="ReplicationLatency",
                                    statistic="Maximum")
    assert expression.expression == ("SEARCH('{AWS/S3,SourceBucket,DestinationBucket,RuleId} "
                                     "MetricName=\"ReplicationLatency\" SourceBucket=\"src\"', 'Maximum', 300)")
    assert expression.search_region == "eu-west-1"


def _alarms(template: dict) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


#: What each failure kind must alarm on with the default thresholds: (metric, statistic, threshold, periods).
KINDS = {("OperationsFailedReplication", "Sum", 0, 1), ("ReplicationLatency", "Maximum", 900, 3),
         ("OperationsPendingReplication", "Maximum", 10_000, 3),
         ("BytesPendingReplication", "Maximum", 10 * 1024**3, 3)}
PER_RULE = {"name": "per-rule", "regions": regions(3), "account": ACCOUNT, "monitoring": {"alarms_per_rule": True}}


def _watched(alarm: dict) -> list[tuple]:
    """The rule metrics an alarm fires on when one of them alone exceeds its threshold, each as (metric, statistic,
    threshold, periods, SourceBucket, DestinationBucket, RuleId): its own metric, or every metric of a returned
    ``MAX([...])`` (the highest rule is over the threshold exactly when some rule is). Any other expression (SUM,
    AVG, ...) could hide one rule's breach and counts as watching nothing."""
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["TreatMissingData"] == "ignore"
    assert "DatapointsToAlarm" not in alarm and "Unit" not in alarm
    kind = (alarm["Threshold"], alarm["EvaluationPeriods"])
    if "Metrics" not in alarm:
        dims = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        metrics = [(alarm["MetricName"], alarm["Statistic"], dims)]
    else:
        [returned] = [q for q in alarm["Metrics"] if q["ReturnData"]]
        stats = {q["Id"]: q["MetricStat"] for q in alarm["Metrics"] if "MetricStat" in q}
        assert len(stats) <= 10  # CloudWatch's hard limit on metrics per metric-math alarm
        match = re.fullmatch(r"MAX\(\[(\w+(?:,\w+)*)\]\)", returned.get("Expression", ""))
        if not match or not all(i in stats for i in match.group(1).split(",")):
            return []
        metrics = [(stats[i]["Metric"]["MetricName"], stats[i]["Stat"],
                    {d["Name"]: d["Value"] for d in stats[i]["Metric"]["Dimensions"]})
                   for i in match.group(1).split(",")]
        assert {stats[i]["Period"] for i in stats} == {300}
    return [(name, stat, *kind, dims["SourceBucket"], dims["DestinationBucket"], dims["RuleId"])
            for name, stat, dims in metrics]


@pytest.mark.parametrize("scenario", ["mesh-2", "oneway-3", "per-rule-3", "mesh-17"])
def test_every_failure_kind_on_every_rule_reaches_an_alarm(synth, scenario):
    from tests.unit.test_app import _rules

    app = synth(PER_RULE if scenario == "per-rule-3" else SCENARIOS[scenario])
    name = app.deployment.config.name
    for source, stack in app.deployment.replication_stacks.items():
        template = app.template_json(stack.stack_name)
        alarms = _alarms(template)
        if not _rules(app, source):  # one-way: a Region that replicates nowhere has nothing to watch
            assert alarms == []
            continue
        topic = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::SNS::Topic")
        # every alarm notifies the topic by Ref (what the AlarmTopicKeyDeniesCloudWatch rule reads)
        assert all(a["AlarmActions"] == a["OKActions"] == [{"Ref": topic}] for a in alarms)
        watched = {w for alarm in alarms for w in _watched(alarm)}
        expected = {(metric, stat, threshold, periods, f"{name}-{ACCOUNT}-{source}",
                     rule["Destination"]["Bucket"].removeprefix("arn:aws:s3:::"), rule["ID"])
                    for rule in _rules(app, source) for metric, stat, threshold, periods in KINDS}
        assert expected and expected <= watched, sorted(expected - watched)[:4]


def test_a_sum_over_rules_would_not_count_as_detection():
    # The checker above is not fooled: a SUM over rules can stay under a per-rule threshold another rule breaches.
    alarm = {"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "ignore", "Threshold": 5,
             "EvaluationPeriods": 1, "Metrics": [
                 {"Id": "m0", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum", "Metric": {
                     "MetricName": "OperationsFailedReplication", "Dimensions": []}}},
                 {"Id": "e", "ReturnData": True, "Expression": "SUM([m0])"}]}
    assert _watched(alarm) == []


@pytest.mark.parametrize(("scenario", "n", "per_source"), [("mesh-2", 2, 4), ("oneway-3", 3, 4),
                                                          ("mesh-17", 17, 8)])
def test_alarms_grow_with_sources_not_rules(synth, scenario, n, per_source):
    app = synth(SCENARIOS[scenario])
    counts = {source: len(_alarms(app.template_json(stack.stack_name)))
              for source, stack in app.deployment.replication_stacks.items()}
    sources = [s for s, stack in app.deployment.replication_stacks.items() if stack.alarms is not None]
    assert all(counts[s] == per_source for s in sources)
    if n == 17:
        assert sum(counts.values()) == 136 <= 8 * 17  # was 4 * 17 * 16 = 1,088 per rule


def test_per_rule_alarms_stay_available(synth):
    app = synth(PER_RULE)
    total = sum(len(_alarms(app.template_json(s.stack_name))) for s in app.deployment.replication_stacks.values())
    assert total == 4 * 3 * 2
    alarms = app.deployment.replication_stacks["us-east-1"].alarms
    assert sorted(alarms.alarms) == ["to-ap-southeast-2", "to-eu-west-1"]
    assert all(len(set(map(id, a))) == 4 for a in alarms.alarms.values()) and len(alarms.all_alarms) == 8


def test_per_source_alarm_names_the_rules_and_where_to_find_the_destination(synth):
    app = synth(SCENARIOS["mesh-17"])
    template = app.template_json("mesh-all-replication-us-east-1")
    latency = [a for a in _alarms(template) if "latency" in a["AlarmDescription"]]
    assert len(latency) == 2  # 16 destinations: two alarms of 8 metrics, within the 10-metric limit
    for alarm in latency:
        description = alarm["AlarmDescription"]
        assert len(description) <= 1024  # CloudFormation's AlarmDescription maximum
        assert description.startswith(f"S3 replication from mesh-all-{ACCOUNT}-us-east-1: latency above 900 s for 3 "
                                      "periods of 5 minutes on a rule to ")
        assert "dashboard mrap-mesh-all (us-west-2), row 'from us-east-1'" in description
        assert ("https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#dashboards/dashboard/"
                "mrap-mesh-all") in description
        labels = [q["Label"] for q in alarm["Metrics"] if not q["ReturnData"]]
        named = re.search(r" on a rule to (.+?)\. Which destination", description).group(1).split(", ")
        assert [f"to-{region}" for region in named] == labels
    groups = [[q["Label"] for q in a["Metrics"] if not q["ReturnData"]] for a in latency]
    assert [len(g) for g in groups] == [8, 8] and not set(groups[0]) & set(groups[1])


def test_rules_are_grouped_in_as_few_near_equal_groups_as_the_limit_allows():
    from mrap_constructs.monitoring.alarms import MAX_METRICS_PER_ALARM, chunked

    assert MAX_METRICS_PER_ALARM == 10
    assert [len(g) for g in chunked(list(range(16)))] == [8, 8]
    assert [len(g) for g in chunked(list(range(10)))] == [10]
    assert [len(g) for g in chunked(list(range(11)))] == [6, 5]
    assert [len(g) for g in chunked(list(range(1)))] == [1]
    assert chunked([]) == []
    assert sum(chunked(list(range(16))), []) == list(range(16))


def test_alarm_thresholds_and_topic_defaults():
    stack = new_stack()
    alarms = ReplicationAlarms(stack, "Alarms", source_bucket_name="src", per_rule=True,
                               destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")],
                               thresholds=AlarmThresholds(latency_seconds=600), alarm_email="ops@example.com")
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "OperationsFailedReplication", "Threshold": 0, "EvaluationPeriods": 1,
        # S3's guidance: replication metrics exist only with activity, "Treat missing data as ignore"
        # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html).
        "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "ignore"})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ReplicationLatency", "Threshold": 600, "EvaluationPeriods": 3, "Statistic": "Maximum"})
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        # every evaluation period must breach (DatapointsToAlarm defaults to EvaluationPeriods), and a Unit filter
        # could only ever hide S3's datapoints
        assert not {"DatapointsToAlarm", "Unit"} & set(alarm["Properties"])
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"})
    assert len(alarms.alarms["to-eu-west-1"]) == 4


def test_per_source_alarms_use_the_thresholds_and_share_alarms_between_rules():
    stack = new_stack()
    alarms = ReplicationAlarms(stack, "Alarms", source_bucket_name="src", destinations=[
        ReplicationDestination(region=r, bucket_name=f"dst-{r}") for r in ("eu-west-1", "ap-south-1")],
        thresholds=AlarmThresholds(latency_seconds=600, failed_operations=2, evaluation_periods=4))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 4)
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Threshold": 600, "EvaluationPeriods": 4, "TreatMissingData": "ignore",
        "Metrics": Match.array_with([{"Id": "highest", "Expression": "MAX([m0,m1])", "ReturnData": True,
                                      "Label": "highest ReplicationLatency of 2 rules"}])})
    template.has_resource_properties("AWS::CloudWatch::Alarm", {"Threshold": 2, "EvaluationPeriods": 1,
                                                                "AlarmDescription": Match.string_like_regexp(
        r"^S3 replication from src: more than 2 failed operations in 5 minutes on a rule to ap-south-1, eu-west-1\. "
        r"Which destination: the alarm's graph has one line per rule")})
    assert alarms.alarms["to-eu-west-1"] == alarms.alarms["to-ap-south-1"] == alarms.all_alarms
    assert len(alarms.all_alarms) == 4


def test_fails_dashboard_region_without_a_dashboard_name():
    with pytest.raises(ValueError, match=r"dashboard_region='us-west-2': give dashboard_name too"):
        ReplicationAlarms(new_stack(), "A", source_bucket_name="src", dashboard_region="us-west-2",
                          destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")])


def test_alarm_topic_key_admits_cloudwatch_and_topic_policy_lets_it_publish():
    """CloudWatch cannot publish to a topic under the AWS managed key ``alias/aws/sns``; a customer managed key must
    admit ``cloudwatch.amazonaws.com`` for ``kms:GenerateDataKey*`` and ``kms:Decrypt``
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)."""
    stack = new_stack()
    alarms = ReplicationAlarms(stack, "Alarms", source_bucket_name="src",
                               destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")])
    template = Template.from_stack(stack)
    key_id = stack.get_logical_id(alarms.topic_key.node.default_child)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}})
    assert "alias/aws/sns" not in json.dumps(template.to_json())
    source = {"StringEquals": {"aws:SourceAccount": ACCOUNT},
              "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"}}
    template.has_resource("AWS::KMS::Key", {"Properties": {"EnableKeyRotation": True, "KeyPolicy": {
        "Statement": Match.array_with([{
            "Sid": "AllowCloudWatchAlarmsToPublish", "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*", "Condition": source}])}},
        "DeletionPolicy": "Retain"})
    [topic_policy] = template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    allow = next(s for s in statements if s.get("Sid") == "AllowCloudWatchAlarmsToPublish")
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and allow["Action"] == "sns:Publish"
    assert allow["Condition"] == source
    # The TLS-only deny stays, and names no service exemption: encrypted topics are published to over TLS only.
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_alarms_to_a_given_topic_and_email_conflict():
    stack = new_stack()
    topic = sns.Topic(stack, "Mine")
    ReplicationAlarms(stack, "A", source_bucket_name="src", topic=topic,
                      destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")])
    Template.from_stack(stack).resource_count_is("AWS::SNS::Topic", 1)
    with pytest.raises(ValueError, match=r"alarm_email='x@y.z': subscribe your own topic yourself"):
        ReplicationAlarms(stack, "B", source_bucket_name="src", topic=topic, alarm_email="x@y.z",
                          destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")])


def test_dashboard_shows_every_region_and_the_alias(synth):
    app = synth(SCENARIOS["mesh-17"])
    template = app.template_json("mesh-all-access-point")
    dashboard = next(r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for region in regions(17):
        assert f'\\"region\\":\\"{region}\\"' in body, region
        assert f"Replication latency from {region}" in body
        assert f'SourceBucket=\\\\\\"mesh-all-{ACCOUNT}-{region}\\\\\\"' in body, region
    assert "Alias" in body and "Fn::GetAtt" in body and "accesspoint.s3-global.amazonaws.com" in body


def test_dashboard_alarms_and_logs_can_be_switched_off(synth):
    app = synth(SCENARIOS["none-2"])
    for name in app.stack_names:
        kinds = {r["Type"] for r in app.template_json(name)["Resources"].values()}
        assert not kinds & {"AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm", "AWS::SNS::Topic"}, name
    buckets = [r for r in app.template_json("no-repl-bucket-us-east-1")["Resources"].values()
               if r["Type"] == "AWS::S3::Bucket"]
    assert len(buckets) == 1 and "LoggingConfiguration" not in buckets[0]["Properties"]


def test_every_bucket_logs_to_a_log_bucket_that_does_not_log_to_itself(default_app):
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"]:
        resources = default_app.template_json(f"mrap-demo-bucket-{region}")["Resources"]
        buckets = {k: r["Properties"] for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
        data = next(p for p in buckets.values() if "LoggingConfiguration" in p)
        log_id = data["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
        assert "LoggingConfiguration" not in buckets[log_id]
        assert buckets[log_id]["VersioningConfiguration"] == {"Status": "Enabled"}


MONITORED = {"name": "monitored", "regions": regions(2), "account": ACCOUNT, "failover": {"active": ["us-east-1"]},
             "monitoring": {"alarm_email": "ops@example.com", "cloudtrail": True, "request_metrics": True}}


def test_trail_logs_data_events_of_every_bucket_encrypted_and_validated(synth):
    app = synth(MONITORED)
    template = app.template("monitored-access-point")
    template.has_resource_properties("AWS::CloudTrail::Trail", {
        "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "KMSKeyId": Match.any_value(),
        "CloudWatchLogsLogGroupArn": Match.any_value(),
        "EventSelectors": [Match.object_like(
            {"DataResources": [{"Type": "AWS::S3::Object", "Values": Match.any_value()}]})],
    })
    selectors = json.dumps(template.find_resources("AWS::CloudTrail::Trail"))
    assert f"monitored-{ACCOUNT}-us-east-1" in selectors and f"monitored-{ACCOUNT}-eu-west-1" in selectors


def test_trail_key_admits_cloudtrail_for_this_trail(synth):
    """CloudTrail needs ``kms:GenerateDataKey*`` (encryption context ``aws:cloudtrail:arn``) and ``kms:DescribeKey``
    on the trail's key, else ``CreateTrail`` fails with InsufficientEncryptionPolicyException
    (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)."""
    template = synth(MONITORED).template("monitored-access-point")
    trail_arn = f"arn:aws:cloudtrail:us-west-2:{ACCOUNT}:trail/mrap-monitored-data-events"
    template.has_resource_properties("AWS::CloudTrail::Trail", {"TrailName": "mrap-monitored-data-events"})
    template.has_resource_properties("AWS::KMS::Key", {"Description": "Encrypts the MRAP data-events trail",
                                                       "KeyPolicy": {"Statement": Match.array_with([
        {"Sid": "AllowCloudTrailToEncryptLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}, "StringLike": {
             "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}},
        {"Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
    ])}})


def test_request_metrics_and_routes_on_the_dashboard(synth):
    app = synth(MONITORED)
    app.template("monitored-bucket-eu-west-1").has_resource_properties(
        "AWS::S3::Bucket", {"MetricsConfigurations": [{"Id": "EntireBucket"}]})
    body = json.dumps(app.template("monitored-access-point").find_resources("AWS::CloudWatch::Dashboard"))
    assert "4xxErrors" in body and "FirstByteLatency" in body
    assert "eu-west-1 passive" in body and "us-east-1 active" in body


def test_monitored_app_is_lint_clean_and_least_privilege(synth):
    from tests.unit.test_cfn_lint import _lint_app
    from tests.unit.test_least_privilege import audit

    app = synth(MONITORED)
    assert _lint_app(app) == []
    assert [p for n in app.stack_names for p in audit(app.template_json(n))] == []


def test_dashboard_body_lays_out_a_header_and_a_row_per_source_with_destinations():
    from mrap_constructs.monitoring.dashboard import dashboard_body

    body = dashboard_body(header="# MRAP", replication={
        "us-east-1": ("src-use1", [ReplicationDestination(region="eu-west-1", bucket_name="dst-euw1")]),
        "eu-west-1": ("src-euw1", []),  # one-way: no row for a Region that replicates nowhere
        "ap-south-1": ("src-aps1", [ReplicationDestination(region="us-east-1", bucket_name="src-use1")]),
    }, request_metric_buckets={"us-east-1": "src-use1", "eu-west-1": "src-euw1"})
    json.dumps(body)  # plain data, ready for CloudWatch
    header, *graphs = body["widgets"]
    assert header == {"type": "text", "width": 24, "height": 4, "x": 0, "y": 0, "properties": {"markdown": "# MRAP"}}
    assert [(g["x"], g["y"], g["width"], g["height"]) for g in graphs] == [
        (x, y, 8, 6) for y in (4, 10, 16) for x in (0, 8, 16)]
    first_row, second_row, requests = graphs[:3], graphs[3:6], graphs[6:]
    assert [g["properties"]["title"] for g in first_row] == [
        "Replication latency from ap-south-1 (s)", "Pending from ap-south-1 (operations)",
        "Failed replication from ap-south-1"]
    assert {g["properties"]["region"] for g in second_row} == {"us-east-1"}
    (search,), = second_row[2]["properties"]["metrics"]
    assert search == {"region": "us-east-1", "expression": (
        "SEARCH('{AWS/S3,SourceBucket,DestinationBucket,RuleId} MetricName=\"OperationsFailedReplication\" "
        "SourceBucket=\"src-use1\"', 'Sum', 300)")}
    assert "region" not in requests[0]["properties"]  # each line carries its own Region
    assert requests[0]["properties"]["metrics"] == [
        ["AWS/S3", "4xxErrors", "BucketName", "src-euw1", "FilterId", "EntireBucket",
         {"region": "eu-west-1", "stat": "Sum", "label": "eu-west-1 4xxErrors"}],
        ["AWS/S3", "4xxErrors", "BucketName", "src-use1", "FilterId", "EntireBucket",
         {"region": "us-east-1", "stat": "Sum", "label": "us-east-1 4xxErrors"}]]


def test_metric_spec_graph_entry_states_a_non_default_period():
    spec = replication_metrics(source_bucket="s", destination_bucket="d", rule_id="to-x", source_region="eu-west-1",
                               period_seconds=60).latency
    assert spec.graph_entry() == ["AWS/S3", "ReplicationLatency", "SourceBucket", "s", "DestinationBucket", "d",
                                  "RuleId", "to-x", {"region": "eu-west-1", "stat": "Maximum", "period": 60}]


def test_17_regions_dashboard_has_one_row_per_source_and_templates_stay_under_half_the_limits(synth):
    # One SEARCH expression per source and graph (it finds every rule of that source), not a line per rule: the
    # body grows with Regions. Every template stays below half of CloudFormation's quotas (1 MB body, 500
    # resources, 200 outputs), the bench's target.
    from bench.run import LIMITS

    app = synth(SCENARIOS["mesh-17"])
    template = app.template_json("mesh-all-access-point")
    [dashboard] = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert body.count("SEARCH(") == 17 * 3 and "to-eu-west-1" not in body  # no metric of a single rule
    assert len(app.deployment.access_point_stack.dashboard.body["widgets"]) == 1 + 17 * 3
    for name in app.stack_names:
        stack = app.template_json(name)
        assert len(json.dumps(stack)) < LIMITS["template_bytes"] / 2, name
        assert len(stack["Resources"]) < LIMITS["resources"] / 2, name
        assert len(stack.get("Outputs", {})) < LIMITS["outputs"] / 2, name
