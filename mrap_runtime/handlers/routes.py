"""Custom resource ``Custom::MrapRoutes``: set an MRAP's routing dials and wait until AWS applies them.

The ``Dials`` property is the goal state. Create submits the goal with the ``InitialPassive`` Regions (empty
buckets awaiting a backfill) at 0. Update submits only the dials whose goal changed since the previous deploy (all
of them, as on Create, when the MRAP itself was replaced), so an activation made after the deploy
(``mrap activate``) is never reverted by a redeploy; when ``RequireInSync`` is ``"true"`` (the default), a Region the
update makes active must have an empty replication backlog, else the update fails with the backlog named. Delete
reverts every Region to active (100), so removing failover from the app never leaves traffic pinned. Updates wait
for AWS to apply them, retrying while another routes update is in flight. Runs under the CDK Provider framework,
which relays the result to CloudFormation.

Resource properties: ``AccountId``, ``MrapName``, ``MrapAlias`` (how a replaced MRAP is recognised),
``Dials`` (``{region: "0"|"100"}``), optional ``RoutesRegion``, ``TimeoutSeconds`` (default 600), ``InitialPassive``
(Regions), ``RequireInSync`` (default ``"true"``) and ``ReaderRoles`` (``{region: role ARN}``, the read-only role of
each bucket in another account; a backlog that cannot be read is unknown, which is never in sync).

Time budget: conflict retries and the wait share one deadline, ``TimeoutSeconds`` from the start, cut to the
function's remaining time less ``SAFETY_MARGIN_SECONDS``. When it is spent the handler raises a ``Timeout`` that
CloudFormation reports; the function is never killed mid-call (Lambda's limit is 900 s,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mrap_runtime.client import ACTIVE, MrapClient, MrapError
from mrap_runtime.regions import initial_dials

ClientFactory = Callable[..., MrapClient]
#: Seconds kept back from the function's remaining time, to report the failure to CloudFormation.
SAFETY_MARGIN_SECONDS = 30.0


def time_budget(requested: float, context: Any) -> float:
    """Seconds the handler may spend: ``requested``, cut to the Lambda's remaining time less the safety margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return requested
    return max(0.0, min(requested, remaining() / 1000 - SAFETY_MARGIN_SECONDS))


def _dials(props: dict[str, Any]) -> dict[str, int]:
    return {region: int(dial) for region, dial in props.get("Dials", {}).items()}


def mrap_replaced(props: dict[str, Any], old: dict[str, Any] | None) -> bool:
    """Whether the MRAP behind an Update is another one than before: its alias changed (a replacement gets a new alias
    even when it keeps its name), or, for resources written before ``MrapAlias`` existed, its name."""
    if old is None:
        return True
    if old.get("MrapAlias") and props.get("MrapAlias"):
        return old["MrapAlias"] != props["MrapAlias"]
    return old.get("MrapName") != props.get("MrapName")


def dials_to_submit(request_type: str, props: dict[str, Any], old: dict[str, Any] | None) -> dict[str, int]:
    """The dials this request submits: on Create (or when the MRAP was replaced) the goal with the initially
    passive Regions at 0; on Update only the goal dials that changed."""
    goal = _dials(props)
    if request_type == "Create" or mrap_replaced(props, old):
        return initial_dials(goal, props.get("InitialPassive") or [])
    previous = _dials(old)
    return {region: dial for region, dial in goal.items() if previous.get(region) != dial}


def on_event(event: dict[str, Any], context: Any = None, client_factory: ClientFactory = MrapClient) -> dict:
    """Handle one CloudFormation request; raising fails it (CloudFormation then rolls back)."""
    props = event["ResourceProperties"]
    name = props["MrapName"]
    physical_id = event.get("PhysicalResourceId") or f"{name}-routes"
    client = client_factory(props["AccountId"], routes_region=props.get("RoutesRegion") or None)
    if props.get("ReaderRoles"):  # buckets of other accounts: read through their read-only roles
        client.reader_roles.update(props["ReaderRoles"])
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
        old = event.get("OldResourceProperties")
        dials = dials_to_submit(event["RequestType"], props, old)
        if event["RequestType"] == "Update" and not mrap_replaced(props, old) \
                and props.get("RequireInSync", "true") != "false":
            behind = [backlog.describe() for region, dial in sorted(dials.items()) if dial == ACTIVE
                      for backlog in [client.backlog(info, region)] if not backlog.in_sync]
            if behind:
                raise MrapError("TargetBehind", "refusing to activate: " + "; ".join(behind) +
                                ". Wait until it is in sync (`mrap backfill status`), or set "
                                "failover.require_in_sync: false to switch anyway.")

    if dials:
        client.submit_routes(info, dials, deadline=deadline)
        routes = client.wait_for_routes(info, dials, timeout=max(0.0, deadline - client.clock()))
    else:
        routes = client.routes(info)  # no goal changed: leave the dials as they are (an activation stays)
    active = sorted(r.region for r in routes if r.active)
    return {"PhysicalResourceId": physical_id, "Data": {"ActiveRegions": ",".join(active)}}
