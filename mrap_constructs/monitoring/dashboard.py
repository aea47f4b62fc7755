"""One CloudWatch dashboard for an MRAP: every Region side by side (cross-Region metrics carry their Region).

The body is plain data (``dashboard_body``) rendered into one ``AWS::CloudWatch::Dashboard``: at 17 Regions that is
one construct instead of ~100 widget and metric objects, and the layout can be tested without synthesizing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from mrap_constructs.access_point import IMultiRegionAccessPoint
from mrap_constructs.monitoring.metrics import replication_search_expression, request_metrics
from mrap_constructs.replication import ReplicationDestination

#: Dashboard grid: 24 units wide; a text header 4 high, graphs 8 wide and 6 high (three per row).
WIDTH, HEADER_HEIGHT, GRAPH_WIDTH, GRAPH_HEIGHT = 24, 4, 8, 6
#: One row per source Region: (title, replication metric, statistic).
REPLICATION_ROW = (("Replication latency from {region} (s)", "ReplicationLatency", "Maximum"),
                   ("Pending from {region} (operations)", "OperationsPendingReplication", "Maximum"),
                   ("Failed replication from {region}", "OperationsFailedReplication", "Sum"))
#: The request-metrics row: (title, request metric).
REQUEST_ROW = (("4xx errors per Region", "4xxErrors"), ("5xx errors per Region", "5xxErrors"),
               ("First-byte latency p99 per Region (ms)", "FirstByteLatency"))


def dashboard_body(*, header: str, replication: Mapping[str, tuple[str, Sequence[ReplicationDestination]]],
                   request_metric_buckets: Mapping[str, str] | None = None,
                   accounts: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The dashboard body (CloudWatch's JSON format): the ``header`` markdown, a row of SEARCH graphs per source
    Region with destinations, then a row of request-metric graphs when ``request_metric_buckets`` is given.

    ``accounts`` (``{region: account}``) names the buckets owned by other accounts: S3 publishes a bucket's metrics
    in its owner's account, so their graphs carry ``accountId`` (the dashboard body's metric option for cross-account
    dashboards), which CloudWatch renders only where the MRAP account can read those accounts' metrics (CloudWatch
    cross-account observability or cross-account cross-Region sharing; see docs/security.md)."""
    accounts = dict(accounts or {})
    widgets: list[dict[str, Any]] = [{"type": "text", "width": WIDTH, "height": HEADER_HEIGHT, "x": 0, "y": 0,
                                      "properties": {"markdown": header}}]
    rows: list[list[tuple[str, str | None, list]]] = []
    for source in sorted(replication):
        bucket, destinations = replication[source]
        if destinations:
            rows.append([(title.format(region=source), source, [[{
                "expression": replication_search_expression(source_bucket=bucket, metric_name=metric,
                                                            statistic=statistic),
                "region": source, **({"accountId": accounts[source]} if source in accounts else {})}]])
                for title, metric, statistic in REPLICATION_ROW])
    if request_metric_buckets:
        per_region = [(r, request_metrics(bucket=b, region=r)) for r, b in sorted(request_metric_buckets.items())]
        rows.append([(title, None, [_in_account(metrics[name].graph_entry(), accounts.get(r))
                                    for r, metrics in per_region])
                     for title, name in REQUEST_ROW])
    for row_index, row in enumerate(rows):
        for column, (title, region, metrics) in enumerate(row):
            properties: dict[str, Any] = {"view": "timeSeries", "title": title}
            if region:
                properties["region"] = region
            properties |= {"metrics": metrics, "yAxis": {}}
            widgets.append({"type": "metric", "width": GRAPH_WIDTH, "height": GRAPH_HEIGHT, "x": column * GRAPH_WIDTH,
                            "y": HEADER_HEIGHT + row_index * GRAPH_HEIGHT, "properties": properties})
    return {"widgets": widgets}


def _in_account(entry: list[Any], account: str | None) -> list[Any]:
    """A metric graph entry (``[namespace, name, dims..., {options}]``) with ``accountId`` in its options."""
    if account is None:
        return entry
    if entry and isinstance(entry[-1], dict):
        return [*entry[:-1], {**entry[-1], "accountId": account}]
    return [*entry, {"accountId": account}]


class MrapDashboard(Construct):
    """A dashboard: the MRAP's alias, hostname and routes, then per source Region the replication latency,
    backlog and failures towards every destination, then (optionally) request errors per bucket.

    Args:
        scope: parent construct (the home Region's stack).
        id: construct id.
        access_point: the MRAP whose alias and hostname the text widget shows.
        replication: ``{source_region: (source_bucket_name, [ReplicationDestination, ...])}``.
        routes: ``{region: dial}`` as deployed. Default: every Region active.
        request_metric_buckets: ``{region: bucket_name}`` of buckets with request metrics on. Default: none.
        dashboard_name: Default: generated by CloudFormation.
        bucket_accounts: ``{region: account}`` of buckets owned by other accounts: their graphs read that account's
            metrics (``accountId``). Default: none (every bucket in this account).

    Attributes:
        dashboard (the ``CfnDashboard``), body (the dashboard body, tokens unresolved), regions (every Region shown).

    Example:
        MrapDashboard(stack, "Dashboard", access_point=mrap,
                      replication={"us-east-1": ("media-us-east-1", [ReplicationDestination("eu-west-1", "media-eu")])})
    """

    def __init__(self, scope: Construct, id: str, *, access_point: IMultiRegionAccessPoint,
                 replication: Mapping[str, tuple[str, Sequence[ReplicationDestination]]],
                 routes: Mapping[str, int] | None = None,
                 request_metric_buckets: Mapping[str, str] | None = None,
                 dashboard_name: str | None = None, bucket_accounts: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        self.regions = sorted(set(replication) | {d.region for _, dests in replication.values() for d in dests}
                              | set(request_metric_buckets or {}) | set(routes or {}))
        self.body = dashboard_body(header=self._header(access_point, self.regions, routes), replication=replication,
                                   request_metric_buckets=request_metric_buckets, accounts=bucket_accounts)
        # "Resource/Resource" keeps the logical id of earlier versions (an L2 Dashboard): a deployed dashboard with a
        # fixed name is updated in place, not replaced (a replacement would delete the new one by name).
        self.dashboard = cw.CfnDashboard(Construct(self, "Resource"), "Resource", dashboard_name=dashboard_name,
                                         dashboard_body=Stack.of(self).to_json_string(self.body))

    @staticmethod
    def _header(access_point: IMultiRegionAccessPoint, regions: Sequence[str], routes: Mapping[str, int] | None) -> str:
        dials = routes or {}
        route_text = ", ".join(f"{r} {'active' if dials.get(r, 100) else 'passive'}" for r in regions)
        return (f"# Multi-Region Access Point\n"
                f"Alias `{access_point.alias}` · hostname `{access_point.hostname}`\n\n"
                f"Routes (as deployed): {route_text}")
