"""Custom resource ``Custom::MrapRoutes``: set an MRAP's routing dials and wait until AWS applies them.

Create/Update submit the requested dials (retrying while another routes update is in flight) and wait until
``GetMultiRegionAccessPointRoutes`` shows them; Delete reverts every Region to active (100), so removing failover
from the app never leaves traffic pinned. Runs under the CDK Provider framework, which relays the result to
CloudFormation.

Resource properties: ``AccountId``, ``MrapName``, ``Dials`` (``{region: "0"|"100"}``), optional ``RoutesRegion``
and ``TimeoutSeconds`` (default 600).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mrap_constructs.ops.client import ACTIVE, MrapClient, MrapError

ClientFactory = Callable[..., MrapClient]


def on_event(event: dict[str, Any], context: Any = None, client_factory: ClientFactory = MrapClient) -> dict:
    """Handle one CloudFormation request; raising fails it (CloudFormation then rolls back)."""
    props = event["ResourceProperties"]
    name = props["MrapName"]
    physical_id = event.get("PhysicalResourceId") or f"{name}-routes"
    client = client_factory(props["AccountId"], routes_region=props.get("RoutesRegion") or None)
    timeout = float(props.get("TimeoutSeconds", 600))

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

    client.submit_routes(info, dials)
    routes = client.wait_for_routes(info, dials, timeout=timeout)
    active = sorted(r.region for r in routes if r.active)
    return {"PhysicalResourceId": physical_id, "Data": {"ActiveRegions": ",".join(active)}}
