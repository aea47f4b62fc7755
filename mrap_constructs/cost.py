"""The idle monthly cost of a synthesized assembly: what its resources bill before a single object is stored.

``estimate_idle_cost(cdk_out)`` reads the templates and prices, from a small dated table of us-east-1 list prices
(``PRICES``), what bills by the month whatever the traffic: alarm metrics, replication metrics, dashboards, KMS keys,
interface endpoints. What bills by use — RTC per GB, CloudTrail data events, endpoint data, request metrics —
appears as a line with its unit price and no monthly amount. Free tiers are per account and shared with everything
else in it, so none is applied (each is named in a note). Prices differ by Region; every Region is priced at
us-east-1's rates here.

Example:
    from mrap_constructs.cost import estimate_idle_cost

    estimate = estimate_idle_cost("cdk.out")
    print(estimate.render())
    assert estimate.monthly_usd < 100
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: When the prices below were checked (against stored copies of the cited pages).
PRICES_DATE = "2026-12-02"
#: Hours in a billing month, as AWS's pricing examples count them.
HOURS_PER_MONTH = 730
#: The replication metrics S3 publishes per rule with ``Metrics`` on (or RTC): ``BytesPendingReplication``,
#: ``ReplicationLatency``, ``OperationsPendingReplication``, ``OperationsFailedReplication``
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html).
REPLICATION_METRICS_PER_RULE = 4
#: The request metrics of one S3 metrics configuration (filter): AllRequests, Get/Put/Delete/Head/Post/Select/List
#: requests, SelectBytesScanned/Returned, BytesDownloaded/Uploaded, 4xx/5xxErrors, FirstByte/TotalRequestLatency
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html#s3-request-cloudwatch-metrics).
REQUEST_METRICS_PER_FILTER = 16


@dataclass(frozen=True)
class Price:
    """One list price: ``usd`` per ``unit``, from ``source``; ``verified`` says how far it was checked."""

    usd: float
    unit: str
    source: str
    verified: str


CLOUDWATCH_PRICING = "https://aws.amazon.com/cloudwatch/pricing/"
#: us-east-1 list prices, checked on ``PRICES_DATE``. "verified": the rate was read on the cited AWS page; "partly
#: verified": the billing unit was read there, the rate only in third-party summaries of that page; "unverified":
#: the rate could not be read on an AWS page.
PRICES: dict[str, Price] = {
    # The AWS page's free tier ("10 Alarm metrics ... Standard resolution alarms that list metrics directly") shows
    # alarms bill per alarm metric: a metric-math alarm over 8 metrics is 8 alarm metrics. The $0.10 rate: c3x.dev
    # and cloudcostkit.com summaries of that page.
    "alarm_metric": Price(0.10, "alarm metric-month", CLOUDWATCH_PRICING, "partly verified"),
    # "S3 Replication metrics are billed at the same rate as Amazon CloudWatch custom metrics"
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html); $0.30 for the first 10,000 metrics:
    # third-party summaries (signoz.io, c3x.dev) of the CloudWatch page.
    "custom_metric": Price(0.30, "metric-month (first 10,000)", CLOUDWATCH_PRICING, "partly verified"),
    # Free tier "3 Dashboards for up to 50 metrics per month" read on the AWS page; $3 per dashboard: c3x.dev.
    "dashboard": Price(3.00, "dashboard-month", CLOUDWATCH_PRICING, "partly verified"),
    # "Each AWS KMS key that you create in KMS costs $1/month"; with automatic rotation "each newly generated
    # backing key costs an additional $1/month".
    "kms_key": Price(1.00, "key-month", "https://aws.amazon.com/kms/pricing/", "verified"),
    # Billed "for each hour that your VPC endpoint remains provisioned in each Availability Zone" (AWS page); the
    # $0.01 rate: third-party summaries (awsnegotiations.com, cloudcostkit.com).
    "interface_endpoint_hour": Price(0.01, "endpoint-hour per AZ", "https://aws.amazon.com/privatelink/pricing/",
                                     "partly verified"),
    "interface_endpoint_gb": Price(0.01, "GB processed (first PB)", "https://aws.amazon.com/privatelink/pricing/",
                                   "verified"),
    # "Data events ... are charged at $0.10 per 100,000 events".
    "data_events": Price(0.10, "100,000 data events", "https://aws.amazon.com/cloudtrail/pricing/", "verified"),
    # "The first copy of management events is delivered free of charge. Additional copies of management events are
    # charged at $2.00 per 100,000 events" (AWS page).
    "management_events": Price(2.00, "100,000 management events (a second copy)",
                               "https://aws.amazon.com/cloudtrail/pricing/", "verified"),
    "rtc_gb": Price(0.015, "GB replicated with RTC", "https://aws.amazon.com/s3/pricing/", "unverified"),
}


@dataclass(frozen=True)
class CostLine:
    """One priced item: ``quantity`` x ``unit_usd`` = ``monthly_usd`` (0 for usage-based items, see ``note``)."""

    item: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    note: str = ""

    @property
    def usage_based(self) -> bool:
        return self.monthly_usd == 0 and self.quantity == 0


@dataclass(frozen=True)
class CostEstimate:
    """The idle monthly cost of an assembly, line by line.

    Attributes:
        lines, monthly_usd (the sum of the lines), prices_date, alarms (alarm resources), notes (what is left out).
    """

    lines: tuple[CostLine, ...]
    prices_date: str = PRICES_DATE
    alarms: int = 0
    notes: tuple[str, ...] = ()

    @property
    def monthly_usd(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    def line(self, item: str) -> CostLine:
        """The line named ``item``."""
        return next(line for line in self.lines if line.item == item)

    def render(self) -> str:
        """A table for a terminal: item, quantity, unit price, monthly USD, then the notes."""
        rows = [f"{'item':<32} {'quantity':>9}  {'unit price':<42} {'USD/month':>10}"]
        for line in self.lines:
            quantity = "by use" if line.usage_based else f"{line.quantity:,.0f}"
            monthly = "-" if line.usage_based else f"{line.monthly_usd:,.2f}"
            rows.append(f"{line.item:<32} {quantity:>9}  {f'${line.unit_usd:g} per {line.unit}':<42} {monthly:>10}")
        rows.append(f"{'idle total':<32} {'':>9}  {'':<42} {self.monthly_usd:>10,.2f}")
        rows += ["", f"us-east-1 list prices of {self.prices_date} (sources in mrap_constructs/cost.py); no free tier "
                     "applied; items billed by use show their unit price only."]
        rows += [f"- {line.item}: {line.note}" for line in self.lines if line.note]
        rows += [f"- {note}" for note in self.notes]
        return "\n".join(rows)


def template_paths(source: str | Path | Iterable[str | Path]) -> list[Path]:
    """The stack templates of a cloud assembly directory (its ``manifest.json``), or the given template paths."""
    if isinstance(source, str | Path) and Path(source).is_dir():
        out = Path(source)
        manifest = json.loads((out / "manifest.json").read_text())
        return [out / artifact["properties"]["templateFile"] for artifact in manifest["artifacts"].values()
                if artifact["type"] == "aws:cloudformation:stack"]
    if isinstance(source, str | Path):
        return [Path(source)]
    return [Path(p) for p in source]


def estimate_idle_cost(source: str | Path | Iterable[str | Path],
                       prices: dict[str, Price] | None = None) -> CostEstimate:
    """Price what the templates of ``source`` bill every month, idle.

    Args:
        source: a cloud assembly directory (``cdk.out``), one template path, or several.
        prices: Default: ``PRICES``.

    Raises:
        FileNotFoundError: no such directory, manifest or template.

    Example:
        estimate_idle_cost("cdk.out").monthly_usd
    """
    return estimate_templates([json.loads(p.read_text()) for p in template_paths(source)], prices)


def estimate_templates(templates: Sequence[dict[str, Any]], prices: dict[str, Price] | None = None) -> CostEstimate:
    """``estimate_idle_cost`` over parsed templates."""
    p = prices or PRICES
    resources = [r for t in templates for r in (t.get("Resources") or {}).values() if isinstance(r, dict)]

    def of_type(kind: str) -> list[dict]:
        return [r.get("Properties") or {} for r in resources if r.get("Type") == kind]

    alarms = of_type("AWS::CloudWatch::Alarm")
    alarm_metrics = sum(_alarm_metrics(a) for a in alarms)
    rules = [rule for r in resources for rule in _replication_rules(r)]
    metric_rules = [r for r in rules if _enabled(r, "Metrics") or _enabled(r, "ReplicationTime")]
    rtc_rules = [r for r in rules if _enabled(r, "ReplicationTime")]
    dashboards = len(of_type("AWS::CloudWatch::Dashboard"))
    keys = of_type("AWS::KMS::Key")
    rotating = sum(1 for k in keys if k.get("EnableKeyRotation") is True)
    endpoint_azs = sum(_subnet_count(e) for e in of_type("AWS::EC2::VPCEndpoint")
                       if e.get("VpcEndpointType") == "Interface")
    filters = sum(len(b.get("MetricsConfigurations") or []) for b in of_type("AWS::S3::Bucket"))
    data_trails = sum(1 for t in of_type("AWS::CloudTrail::Trail") if _logs_data_events(t))
    management_trails = sum(1 for t in of_type("AWS::CloudTrail::Trail") if _logs_management_events(t))

    def monthly(item: str, quantity: float, price: Price, note: str = "", per: float = 1.0) -> CostLine:
        return CostLine(item, quantity, price.unit, price.usd, round(quantity * price.usd * per, 2), note)

    def usage(item: str, price: Price, note: str) -> CostLine:
        return CostLine(item, 0, price.unit, price.usd, 0.0, note)

    lines = [line for line in (
        monthly("CloudWatch alarm metrics", alarm_metrics, p["alarm_metric"],
                f"{alarm_metrics:,} metrics in {len(alarms):,} alarms: a metric-math alarm bills each metric it "
                "reads, so per-source and per-rule alarms cost the same; 10 alarm metrics free per account"
                if alarms else ""),
        monthly("S3 replication metrics", REPLICATION_METRICS_PER_RULE * len(metric_rules), p["custom_metric"],
                f"{REPLICATION_METRICS_PER_RULE} per rule x {len(metric_rules):,} rules with metrics, billed as "
                "custom metrics (prorated by the hour they are published; S3's guides differ on whether idle rules "
                "publish, so this is the upper bound)" if metric_rules else ""),
        monthly("CloudWatch dashboards", dashboards, p["dashboard"],
                "3 dashboards (up to 50 metrics each) free per account" if dashboards else ""),
        monthly("KMS customer managed keys", len(keys), p["kms_key"],
                f"{rotating} rotate yearly: each rotation adds $1/month to its key" if rotating else ""),
        monthly("Interface endpoints (AZ-hours)", endpoint_azs * HOURS_PER_MONTH, p["interface_endpoint_hour"],
                f"{endpoint_azs} endpoint AZs x {HOURS_PER_MONTH} h" if endpoint_azs else ""),
    ) if line.quantity]
    if endpoint_azs:
        lines.append(usage("Interface endpoint data", p["interface_endpoint_gb"], "per GB through the endpoints"))
    if rtc_rules:
        lines.append(usage("Replication Time Control", p["rtc_gb"],
                           f"{len(rtc_rules)} rules with RTC: per GB replicated, on top of inter-Region transfer"))
    if filters:
        lines.append(usage("S3 request metrics", p["custom_metric"],
                           f"{filters} filters x up to {REQUEST_METRICS_PER_FILTER} metrics, billed as custom "
                           "metrics while requests arrive"))
    if data_trails:
        lines.append(usage("CloudTrail data events", p["data_events"],
                           f"{data_trails} trail(s) logging S3 data events: per event (each object request)"))
    if management_trails:
        lines.append(usage("CloudTrail management events", p["management_events"],
                           f"{management_trails} trail(s) also logging management events: free only as the account's "
                           "first copy; with another trail (or an organization trail) already logging them, billed "
                           "per event (monitoring.cloudtrail_management_events)"))
    return CostEstimate(lines=tuple(lines), alarms=len(alarms), notes=(
        "Not counted (billed by use): storage, requests, inter-Region replication transfer, Lambda, SNS, "
        "CloudWatch Logs.",))


def _alarm_metrics(alarm: dict) -> int:
    """Alarm metrics an alarm bills: 1, or each metric a metric-math alarm retrieves."""
    queries = alarm.get("Metrics")
    if not queries:
        return 1
    return sum(1 for q in queries if isinstance(q, dict) and "MetricStat" in q) or 1


def _replication_rules(resource: dict) -> list[dict]:
    """The replication rules a resource applies: a bucket's ``ReplicationConfiguration``, or the configuration a
    custom resource puts (``PutBucketReplication`` in its ``Create`` call, as ``BucketReplication`` does)."""
    props = resource.get("Properties") or {}
    if resource.get("Type") == "AWS::S3::Bucket":
        return list((props.get("ReplicationConfiguration") or {}).get("Rules") or [])
    create = props.get("Create")
    if create is None or not str(resource.get("Type", "")).startswith("Custom::"):
        return []
    try:
        call = json.loads(_joined(create))
    except (TypeError, ValueError):
        return []
    if not isinstance(call, dict) or call.get("action") != "PutBucketReplication":
        return []
    return list(call.get("parameters", {}).get("ReplicationConfiguration", {}).get("Rules") or [])


def _joined(value: Any) -> str:
    """A string property, with ``Fn::Join`` parts that are tokens replaced by ``TOKEN`` (enough to read the rules)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        text = separator.join(p if isinstance(p, str) else "\0" for p in parts)
        return text.replace('"\0"', '"TOKEN"').replace("\0", "TOKEN")
    raise TypeError(f"not a string: {value!r}")


def _enabled(rule: dict, key: str) -> bool:
    return ((rule.get("Destination") or {}).get(key) or {}).get("Status") == "Enabled"


def _subnet_count(endpoint: dict) -> int:
    subnets = endpoint.get("SubnetIds")
    return len(subnets) if isinstance(subnets, list) else 1


def _logs_management_events(trail: dict) -> bool:
    """Whether a trail logs management events: an event selector with IncludeManagementEvents (CloudFormation's
    default is true when the property is absent), or no selectors at all (a trail logs them by default)."""
    selectors = [s for s in (trail.get("EventSelectors") or []) if isinstance(s, dict)]
    if trail.get("AdvancedEventSelectors"):
        return False  # the advanced selectors name what they log; the project's trail uses basic ones
    return not selectors or any(s.get("IncludeManagementEvents", True) is not False for s in selectors)


def _logs_data_events(trail: dict) -> bool:
    selectors = trail.get("EventSelectors") or []
    return any(s.get("DataResources") for s in selectors if isinstance(s, dict)) or bool(
        trail.get("AdvancedEventSelectors"))
