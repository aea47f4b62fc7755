"""The idle-cost estimate (``mrap_constructs.cost``): exact sums over hand-made templates, the price table's
sources, and the app's own assemblies."""

from __future__ import annotations

import json

import pytest

from mrap_constructs.cost import (
    HOURS_PER_MONTH,
    PRICES,
    PRICES_DATE,
    CostEstimate,
    estimate_idle_cost,
    estimate_templates,
)


def _metric(i: int, rule: str = "to-eu-west-1") -> dict:
    return {"Id": f"m{i}", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Maximum", "Metric": {
        "Namespace": "AWS/S3", "MetricName": "ReplicationLatency", "Dimensions": [{"Name": "RuleId", "Value": rule}]}}}


def _rule(id: str, *, metrics: bool = True, rtc: bool = False) -> dict:
    destination: dict = {"Bucket": f"arn:aws:s3:::{id}"}
    if metrics:
        destination["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    if rtc:
        destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
    return {"ID": id, "Status": "Enabled", "Destination": destination}


#: What one replication stack of the app looks like to the estimate: the custom resource's PutBucketReplication
#: call (a Fn::Join around the role's ARN), two single-metric alarms, one metric-math alarm over 3 metrics, a key.
REPLICATION = {"Resources": {
    "Replication": {"Type": "Custom::S3BucketReplication", "Properties": {"Create": {"Fn::Join": ["", [
        '{"action":"PutBucketReplication","service":"S3","parameters":{"Bucket":"src","ReplicationConfiguration":'
        '{"Role":"', {"Fn::GetAtt": ["Role", "Arn"]}, '","Rules":' + json.dumps(
            [_rule("to-a"), _rule("to-b"), _rule("to-c", metrics=False)]) + "}}}"]]}}},
    "A1": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "OperationsFailedReplication"}},
    "A2": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "ReplicationLatency"}},
    "Math": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
        _metric(0), _metric(1), _metric(2), {"Id": "highest", "Expression": "MAX([m0,m1,m2])", "ReturnData": True}]}},
    "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": True}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
}}
#: The home Region: a dashboard, a data-events trail, a bucket with RTC rules and a request-metrics filter, an
#: interface endpoint in two AZs (and a gateway endpoint, which is free).
HOME = {"Resources": {
    "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": "{}"}},
    "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {"EventSelectors": [
        {"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::src/"]}]}]}},
    "TrailKey": {"Type": "AWS::KMS::Key", "Properties": {}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
        "MetricsConfigurations": [{"Id": "EntireBucket"}],
        "ReplicationConfiguration": {"Role": "r", "Rules": [_rule("rtc-1", rtc=True), _rule("rtc-2", rtc=True)]}}},
    "Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface",
                                                                 "SubnetIds": [{"Ref": "A"}, {"Ref": "B"}]}},
    "Gateway": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
}}


def test_exact_sums_over_hand_made_templates():
    estimate = estimate_templates([REPLICATION, HOME])
    assert isinstance(estimate, CostEstimate) and estimate.alarms == 3
    by_item = {line.item: (line.quantity, line.unit_usd, line.monthly_usd) for line in estimate.lines}
    assert by_item["CloudWatch alarm metrics"] == (5, 0.10, 0.50)  # 1 + 1 + 3: a math alarm bills its 3 metrics
    # 4 metrics for each rule with Metrics or RTC: to-a, to-b, rtc-1, rtc-2 (to-c has neither)
    assert by_item["S3 replication metrics"] == (16, 0.30, 4.80)
    assert by_item["CloudWatch dashboards"] == (1, 3.00, 3.00)
    assert by_item["KMS customer managed keys"] == (2, 1.00, 2.00)
    assert by_item["Interface endpoints (AZ-hours)"] == (2 * HOURS_PER_MONTH, 0.01, 14.60)
    assert estimate.monthly_usd == 0.50 + 4.80 + 3.00 + 2.00 + 14.60 == 24.90
    usage = {line.item: line.unit_usd for line in estimate.lines if line.usage_based}
    # the trail's selector omits IncludeManagementEvents, whose CloudFormation default is true: a billed second copy
    assert usage == {"Interface endpoint data": 0.01, "Replication Time Control": 0.015, "S3 request metrics": 0.30,
                     "CloudTrail data events": 0.10, "CloudTrail management events": 2.00}
    assert "2 rules with RTC" in estimate.line("Replication Time Control").note
    assert "1 rotate yearly" in estimate.line("KMS customer managed keys").note


@pytest.mark.parametrize(("opt_in", "billed"), [(False, False), (True, True)])
def test_the_trail_s_management_events_are_shown_only_when_opted_in(synth, opt_in, billed):
    """A second copy of management events costs $2.00 per 100,000 (https://aws.amazon.com/cloudtrail/pricing/):
    off by default, and shown in the synth summary's estimate when on."""
    from tests.conftest import ACCOUNT

    app = synth({"name": "trailcost", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1"],
                 "monitoring": {"cloudtrail": True, "cloudtrail_management_events": opt_in}})
    items = {line.item for line in estimate_idle_cost(app.out_dir).lines}
    assert "CloudTrail data events" in items
    assert ("CloudTrail management events" in items) is billed


def test_nothing_billed_by_the_month_gives_no_lines():
    estimate = estimate_templates([{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}, {}])
    assert estimate.lines == () and estimate.monthly_usd == 0
    assert "idle total" in estimate.render()


def test_reads_an_assembly_directory_or_template_paths(tmp_path):
    (tmp_path / "a.template.json").write_text(json.dumps(REPLICATION))
    (tmp_path / "b.template.json").write_text(json.dumps(HOME))
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "a": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "a.template.json"}},
        "b": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "b.template.json"}},
        "tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}))
    assert estimate_idle_cost(tmp_path).monthly_usd == 24.90
    assert estimate_idle_cost(str(tmp_path / "a.template.json")).monthly_usd == 0.50 + 2.40 + 1.00
    assert estimate_idle_cost([tmp_path / "b.template.json"]).monthly_usd == 3.00 + 1.00 + 2.40 + 14.60


def test_render_shows_each_line_the_total_and_the_price_date():
    text = estimate_templates([REPLICATION, HOME]).render()
    assert text.splitlines()[0].split() == ["item", "quantity", "unit", "price", "USD/month"]
    assert any(line.startswith("CloudWatch alarm metrics") and line.endswith("0.50") for line in text.splitlines())
    assert any(line.startswith("CloudTrail data events") and "by use" in line and line.endswith("-")
               for line in text.splitlines())
    assert [line.split()[-1] for line in text.splitlines() if line.startswith("idle total")] == ["24.90"]
    assert PRICES_DATE in text and "no free tier applied" in text


def test_every_price_cites_an_aws_page_and_how_far_it_was_verified():
    for key, price in PRICES.items():
        assert price.source.startswith("https://aws.amazon.com/"), key
        assert price.verified in {"verified", "partly verified", "unverified"}, key
    assert PRICES["rtc_gb"].verified == "unverified"


@pytest.mark.parametrize(("config", "alarms", "monthly"), [
    # 3 Regions: 6 rules x 4 metrics, billed as replication metrics and as alarm metrics; 1 dashboard; 3 topic keys
    ({"regions": ["us-east-1", "eu-west-1", "ap-southeast-2"]}, 12, 24 * 0.30 + 24 * 0.10 + 3 + 3),
    ({"regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "monitoring": {"alarms_per_rule": True}}, 24,
     24 * 0.30 + 24 * 0.10 + 3 + 3),
])
def test_the_apps_estimate(synth, config, alarms, monthly):
    from tests.conftest import ACCOUNT

    app = synth({"name": "costed", "account": ACCOUNT, **config})
    estimate = estimate_idle_cost(app.out_dir)
    assert estimate.alarms == alarms and estimate.monthly_usd == round(monthly, 2)
