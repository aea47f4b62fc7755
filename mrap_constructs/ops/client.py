"""One boto3 client for operating a Multi-Region Access Point, shared by the ``mrap`` CLI and the routes handler.

Routes every call to where AWS serves it: the MRAP control plane (describe, policy, async operations) to
us-west-2, the routes API to one of the five Regions that serve it, bucket calls to the bucket's Region, and data-plane
calls (through the MRAP ARN, signed with SigV4A — needs ``awscrt``, the ``crt`` extra) to the global endpoint.
Imports boto3 only (no aws-cdk-lib), so it also runs inside Lambda.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mrap_constructs.regions import (  # noqa: F401 - failover_dials is part of this module's API
    ACTIVE,
    CONTROL_PLANE_REGION,
    PASSIVE,
    ROUTES_API_REGIONS,
    failover_dials,
    routes_region_for,
)

#: Error codes worth retrying: a routes update already in flight, throttling, transient service errors.
RETRYABLE_CODES = frozenset({
    "ConflictException", "OperationAborted", "TooManyRequestsException", "Throttling", "ThrottlingException",
    "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
})


class MrapError(Exception):
    """An AWS or usage error, printed by the CLI as one line: ``CODE: message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def from_client_error(cls, err: ClientError) -> MrapError:
        error = err.response.get("Error", {})
        return cls(error.get("Code", "Unknown"), error.get("Message", str(err)))


@dataclass(frozen=True)
class Route:
    """One bucket's routing dial: 100 = active (receives traffic), 0 = passive."""

    region: str
    bucket: str
    dial: int

    @property
    def active(self) -> bool:
        return self.dial > 0


@dataclass(frozen=True)
class MrapInfo:
    """What ``GetMultiRegionAccessPoint`` says, plus the derived ARN and hostname."""

    name: str
    alias: str
    account: str
    status: str
    created_at: str
    buckets: dict[str, str]
    bucket_accounts: dict[str, str] = field(default_factory=dict)
    public_access_block: dict[str, bool] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:s3::{self.account}:accesspoint/{self.alias}"

    @property
    def hostname(self) -> str:
        return f"{self.alias}.accesspoint.s3-global.amazonaws.com"

    @property
    def regions(self) -> list[str]:
        return sorted(self.buckets)


def strip_account_host_prefix(request: Any, **_: Any) -> None:
    """``before-sign`` hook for local endpoints: botocore prefixes s3control hosts with ``{AccountId}.``,
    which a local emulator (moto) does not resolve; the account still travels in ``x-amz-account-id``."""
    url = request.url
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    label, dot, remainder = host.partition(".")
    if dot and label.isdigit() and len(label) == 12:
        request.url = f"{scheme}://{remainder}{slash}{path}"


class MrapClient:
    """Operate MRAPs in one account.

    Args:
        account: the account that owns the MRAP. Default: the caller's account (STS).
        session: a boto3 session. Default: ``boto3.Session()`` (environment, profile, instance role).
        routes_region: Region for the routes API. Default: one of the MRAP's own Regions that serves it, else us-west-2.
        endpoint_url: a local emulator's URL (tests and ``make deploy-local``). Default: AWS.
        sleep, clock: injectable for tests. Default: ``time.sleep`` and ``time.monotonic``.
    """

    def __init__(
        self,
        account: str | None = None,
        *,
        session: boto3.Session | None = None,
        routes_region: str | None = None,
        endpoint_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session or boto3.Session()
        self.endpoint_url = endpoint_url
        self.routes_region = routes_region
        self.sleep = sleep
        self.clock = clock
        self._clients: dict[tuple[str, str], Any] = {}
        self.account = account or self.call(self._client("sts", CONTROL_PLANE_REGION).get_caller_identity)["Account"]
        if routes_region is not None and routes_region not in ROUTES_API_REGIONS:
            raise MrapError("InvalidRegion", f"routes API is served only in {', '.join(ROUTES_API_REGIONS)}, "
                                             f"not {routes_region}")

    # --- clients -------------------------------------------------------------------------------------------------

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            client = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": 5}),
            )
            if self.endpoint_url and service == "s3control":
                client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
            self._clients[key] = client
        return self._clients[key]

    def control(self) -> Any:
        """s3control in the MRAP control-plane Region (us-west-2)."""
        return self._client("s3control", CONTROL_PLANE_REGION)

    def routes_client(self, regions: Iterable[str] = ()) -> Any:
        """s3control in a Region that serves the routes API."""
        return self._client("s3control", self.routes_region or routes_region_for(list(regions)))

    def s3(self, region: str) -> Any:
        """S3 in ``region`` (bucket calls); ``s3("global")``-style data-plane calls use any Region plus SigV4A."""
        return self._client("s3", region)

    def call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """Call a boto3 method, turning AWS and botocore errors into ``MrapError`` (one readable line)."""
        try:
            return method(**kwargs)
        except ClientError as err:
            raise MrapError.from_client_error(err) from None
        except BotoCoreError as err:
            raise MrapError(type(err).__name__, str(err)) from None

    # --- control plane ---------------------------------------------------------------------------------------------

    def describe(self, name: str) -> MrapInfo:
        """The MRAP called ``name`` (raises ``MrapError`` ``NoSuchMultiRegionAccessPoint`` when absent)."""
        point = self.call(self.control().get_multi_region_access_point,
                          AccountId=self.account, Name=name)["AccessPoint"]
        return MrapInfo(
            name=point["Name"],
            alias=point["Alias"],
            account=self.account,
            status=point.get("Status", "UNKNOWN"),
            created_at=str(point.get("CreatedAt", "")),
            buckets={r["Region"]: r["Bucket"] for r in point.get("Regions", [])},
            bucket_accounts={r["Region"]: r["BucketAccountId"] for r in point.get("Regions", [])
                             if r.get("BucketAccountId")},
            public_access_block=dict(point.get("PublicAccessBlock", {})),
        )

    def policy_status(self, name: str) -> dict[str, Any]:
        """``{"established": bool|None, "is_public": bool|None}``; None values when there is no policy."""
        try:
            status = self.call(self.control().get_multi_region_access_point_policy_status,
                                AccountId=self.account, Name=name)
        except MrapError as err:
            if err.code == "NoSuchMultiRegionAccessPointPolicy":
                return {"established": None, "is_public": None}
            raise
        return {"established": True, "is_public": status.get("Established", {}).get("IsPublic")}

    def wait_for_operation(self, request_token_arn: str, *, timeout: float = 900, interval: float = 5,
                           max_interval: float = 60) -> dict[str, Any]:
        """Poll ``DescribeMultiRegionAccessPointOperation`` with exponential backoff until it ends.

        Returns the ``AsyncOperation`` on ``SUCCEEDED``; raises ``MrapError`` on ``FAILED`` (with AWS's error code)
        and ``MrapError("Timeout", ...)`` after ``timeout`` seconds.
        """
        deadline = self.clock() + timeout
        while True:
            operation = self.call(self.control().describe_multi_region_access_point_operation,
                                   AccountId=self.account, RequestTokenARN=request_token_arn)["AsyncOperation"]
            status = operation.get("RequestStatus")
            if status == "SUCCEEDED":
                return operation
            if status == "FAILED":
                error = operation.get("ResponseDetails", {}).get("ErrorDetails", {})
                raise MrapError(error.get("Code", "OperationFailed"), error.get("Message", request_token_arn))
            if self.clock() + interval > deadline:
                raise MrapError("Timeout", f"operation {request_token_arn} still {status} after {timeout:.0f}s")
            self.sleep(interval)
            interval = min(interval * 2, max_interval)

    # --- routes ------------------------------------------------------------------------------------------------------

    def routes(self, info: MrapInfo) -> list[Route]:
        """The current dials, sorted by Region."""
        response = self.call(self.routes_client(info.regions).get_multi_region_access_point_routes,
                              AccountId=self.account, Mrap=info.arn)
        return sorted((Route(r.get("Region", ""), r.get("Bucket", ""), int(r.get("TrafficDialPercentage", 0)))
                       for r in response.get("Routes", [])), key=lambda r: r.region)

    def submit_routes(self, info: MrapInfo, dials: Mapping[str, int], *, attempts: int = 8,
                      interval: float = 5, deadline: float | None = None) -> None:
        """Set the dials of the named Regions (others are left as they are); retries while another update is in
        flight (conflict) or the API throttles.

        Args:
            attempts: at most this many calls. Default: 8 (about 4 minutes of back-off).
            interval: first back-off in seconds, doubled up to 60. Default: 5.
            deadline: a ``clock()`` value no retry may wait past; then ``MrapError("Timeout", ...)``.
                Default: None (only ``attempts`` bounds the retries).
        """
        problems = [f"{r}" for r in dials if r not in info.buckets]
        if problems:
            raise MrapError("InvalidRegion", f"{', '.join(problems)} not in MRAP {info.name} "
                                             f"(Regions: {', '.join(info.regions)})")
        bad = {r: d for r, d in dials.items() if d not in (ACTIVE, PASSIVE)}
        if bad:
            raise MrapError("InvalidDial", f"dials must be 0 (passive) or 100 (active), got {bad}")
        updates = [{"Bucket": info.buckets[r], "Region": r, "TrafficDialPercentage": d}
                   for r, d in sorted(dials.items())]
        client = self.routes_client(info.regions)
        for attempt in range(1, attempts + 1):
            try:
                client.submit_multi_region_access_point_routes(AccountId=self.account, Mrap=info.arn,
                                                               RouteUpdates=updates)
                return
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                if code not in RETRYABLE_CODES or attempt == attempts:
                    raise MrapError.from_client_error(err) from None
                if deadline is not None and self.clock() + interval > deadline:
                    raise MrapError("Timeout", f"routes of {info.name} not submitted: still {code} after {attempt} "
                                               "attempts, and the time budget is spent") from None
                self.sleep(interval)
                interval = min(interval * 2, 60)

    def wait_for_routes(self, info: MrapInfo, dials: Mapping[str, int], *, timeout: float = 300,
                        interval: float = 10) -> list[Route]:
        """Poll until the routes show ``dials`` (a change can take ~2 minutes to apply)."""
        deadline = self.clock() + timeout
        while True:
            routes = self.routes(info)
            current = {r.region: r.dial for r in routes}
            if all(current.get(region) == dial for region, dial in dials.items()):
                return routes
            if self.clock() + interval > deadline:
                raise MrapError("Timeout", f"routes still {current} after {timeout:.0f}s (wanted {dict(dials)})")
            self.sleep(interval)

    # --- buckets -----------------------------------------------------------------------------------------------------

    def replication(self, region: str, bucket: str) -> dict[str, Any] | None:
        """The bucket's replication configuration, or None when it has none."""
        try:
            return self.call(self.s3(region).get_bucket_replication, Bucket=bucket)["ReplicationConfiguration"]
        except MrapError as err:
            if err.code == "ReplicationConfigurationNotFoundError":
                return None
            raise

    def versioning(self, region: str, bucket: str) -> str:
        """``Enabled``, ``Suspended`` or ``Disabled``."""
        return self.call(self.s3(region).get_bucket_versioning, Bucket=bucket).get("Status", "Disabled")

