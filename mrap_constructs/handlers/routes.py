"""Custom resource ``Custom::MrapRoutes``: set an MRAP's routing dials and wait until AWS applies them.

Create/Update submit the requested dials (retrying while another routes update is in flight) and wait until
``GetMultiRegionAccessPointRoutes`` shows them; Delete reverts every Region to active (100), so removing failover
from the app never leaves traffic pinned. Runs under the CDK Provider framework, which relays the result to
CloudFormation.

Resource properties: ``AccountId``, ``MrapName``, ``Dials`` (``{region: "0"|"100"}``), optional ``RoutesRegion``
and ``TimeoutSeconds`` (default 600).

Time budget: conflict retries and the wait share one deadline, ``TimeoutSeconds`` from the start, cut to the
function's remaining time less ``SAFETY_MARGIN_SECONDS``. When it is spent the handler raises a ``Timeout`` that
CloudFormation reports; the function is never killed mid-call (Lambda's limit is 900 s,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mrap_constructs.ops.client import ACTIVE, MrapClient, MrapError

ClientFactory = Callable[..., MrapClient]
#: Seconds kept back from the function's remaining time, to report the failure to CloudFormation.
SAFETY_MARGIN_SECONDS = 30.0


def time_budget(requested: float, context: Any) -> float:
    """Seconds the handler may spend: ``requested``, cut to the Lambda's remaining time less the safety margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return requested
    return max(0.0, min(requested, remaining() / 1000 - SAFETY_MARGIN_SECONDS))


def on_event(event: dict[str, Any], context: Any = None, client_factory: ClientFactory = MrapClient) -> dict:
    """Handle one CloudFormation request; raising fails it (CloudFormation then rolls back)."""
    props = event["ResourceProperties"]
    name = props["MrapName"]
    physical_id = event.get("PhysicalResourceId") or f"{name}-routes"
    client = client_factory(props["AccountId"], routes_region=props.get("RoutesRegion") or None)
    deadline = client.clock() + time_budget(float(props.get("TimeoutSeconds", 600)), context)

    if event["RequestType"] == "Delete":
        try:
            info = client.describe(name)
        except MrapError as err:
            if err.code == "NoSuchMultiRegionAccessPoint":
                return {"PhysicalResourceId": physical_id}  # nothing left to route
            raise
        dials = {region: ACTIVE for region in info.buckets}
    else:
        info = client.describe(name)
        dials = {region: int(dial) for region, dial in props["Dials"].items()}

    client.submit_routes(info, dials, deadline=deadline)
    routes = client.wait_for_routes(info, dials, timeout=max(0.0, deadline - client.clock()))
    active = sorted(r.region for r in routes if r.active)
    return {"PhysicalResourceId": physical_id, "Data": {"ActiveRegions": ",".join(active)}}
