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

from mrap_runtime.regions import (  # noqa: F401 - failover_dials is part of this module's API
    ACTIVE,
    CONTROL_PLANE_REGION,
    PASSIVE,
    ROUTES_API_REGIONS,
    failover_dials,
    routes_region_for,
    state_reader_role_arn,
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
        reader_roles: ``{region: role ARN}``: the read-only role to assume (STS ``AssumeRole``) for a bucket in
            another account. Default: the role the set creates in that account, ``{prefix}-reader-{region}``
            (``regions.state_reader_role_arn``). A bucket of another account is never read with this account's
            credentials: the bucket policy does not admit them, and its replication metrics are in its own account.
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
        reader_roles: Mapping[str, str] | None = None,
    ) -> None:
        self.session = session or boto3.Session()
        self.reader_roles: dict[str, str] = dict(reader_roles or {})
        self._reader_sessions: dict[str, boto3.Session] = {}
        self.endpoint_url = endpoint_url
        self.routes_region = routes_region
        self.sleep = sleep
        self.clock = clock
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._reader_arns: dict[tuple[str, str], str] = {}
        self.account = account or self.call(self._client("sts", CONTROL_PLANE_REGION).get_caller_identity)["Account"]
        if routes_region is not None and routes_region not in ROUTES_API_REGIONS:
            raise MrapError("InvalidRegion", f"routes API is served only in {', '.join(ROUTES_API_REGIONS)}, "
                                             f"not {routes_region}")

    # --- clients -------------------------------------------------------------------------------------------------

    def _client(self, service: str, region: str, purpose: str = "", session: boto3.Session | None = None) -> Any:
        key = (service, region, purpose)
        if key not in self._clients:
            client = (session or self.session).client(
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

    def s3(self, region: str, account: str | None = None) -> Any:
        """S3 in ``region`` (bucket calls); ``s3("global")``-style data-plane calls use any Region plus SigV4A.
        ``account``: the bucket's owner, when not this account (read through its reader role)."""
        return self._in_account("s3", region, account)

    def _in_account(self, service: str, region: str, account: str | None) -> Any:
        if account is None or account == self.account:
            return self._client(service, region)
        return self._client(service, region, purpose=f"reader:{account}", session=self._reader_session(account,
                                                                                                         region))

    def reader_role(self, info: MrapInfo, region: str) -> str | None:
        """The role read through for ``region``'s bucket when another account owns it (None: this account's)."""
        owner = info.bucket_accounts.get(region, self.account)
        if owner == self.account:
            return None
        return self.reader_roles.get(region) or state_reader_role_arn(info.buckets[region], owner, region)

    def _reader_session(self, account: str, region: str) -> boto3.Session:
        role = self._reader_arns.get((account, region))
        if role is None:
            raise MrapError("NoReaderRole", f"no read-only role is known for the bucket of account {account} in "
                                            f"{region}; its replication state cannot be read from {self.account}")
        if role not in self._reader_sessions:
            issued = self.call(self._client("sts", CONTROL_PLANE_REGION).assume_role, RoleArn=role,
                               RoleSessionName=f"mrap-reader-{self.account}")["Credentials"]
            self._reader_sessions[role] = boto3.Session(
                aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
                aws_session_token=issued["SessionToken"])
        return self._reader_sessions[role]

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

    def owner(self, info: MrapInfo, region: str) -> str | None:
        """The account to read ``region``'s bucket in (None: this one); remembers its reader role."""
        owner = info.bucket_accounts.get(region, self.account)
        if owner == self.account:
            return None
        role = self.reader_role(info, region)
        if role:
            self._reader_arns[(owner, region)] = role
        return owner

    def replication(self, region: str, bucket: str, account: str | None = None) -> dict[str, Any] | None:
        """The bucket's replication configuration, or None when it has none; ``account``: its owner when not this
        account (see ``owner``)."""
        try:
            return self.call(self.s3(region, account).get_bucket_replication,
                             Bucket=bucket)["ReplicationConfiguration"]
        except MrapError as err:
            if err.code == "ReplicationConfigurationNotFoundError":
                return None
            raise

    def versioning(self, region: str, bucket: str, account: str | None = None) -> str:
        """``Enabled``, ``Suspended`` or ``Disabled``."""
        return self.call(self.s3(region, account).get_bucket_versioning, Bucket=bucket).get("Status", "Disabled")


    # --- replication backlog and backfill jobs ---------------------------------------------------------------------

    def cloudwatch(self, region: str, account: str | None = None) -> Any:
        """CloudWatch in ``region`` (S3 publishes a rule's replication metrics in the source bucket's Region, in the
        source bucket's account: ``account`` when not this one)."""
        return self._in_account("cloudwatch", region, account)

    def s3control(self, region: str) -> Any:
        """s3control in ``region`` for Batch Operations jobs (they live in the Region they were created in); a client
        of its own, apart from the routes API's."""
        return self._client("s3control", region, purpose="jobs")

    def rules_into(self, info: MrapInfo, destination: str) -> list[RuleRef]:
        """Every enabled replication rule of the MRAP's other buckets whose destination is ``destination``'s bucket
        (raises ``MrapError`` when a source's rules cannot be read)."""
        rules, unread = self._rules_into(info, destination)
        if unread:
            raise MrapError("Unknown", "; ".join(unread))
        return rules

    def _rules_into(self, info: MrapInfo, destination: str) -> tuple[list[RuleRef], list[str]]:
        """(the rules into ``destination`` that could be read, why each source that could not be read was not)."""
        target = info.buckets[destination]
        found, unread = [], []
        for source, bucket in sorted(info.buckets.items()):
            if source == destination:
                continue
            try:
                owner = self.owner(info, source)
                configuration = self.replication(source, bucket, owner)
            except MrapError as err:
                unread.append(f"the rules of {bucket} ({source}) could not be read: {err}")
                continue
            for rule in (configuration or {}).get("Rules", []):
                if rule.get("Status") == "Enabled" and \
                        rule.get("Destination", {}).get("Bucket", "").rsplit(":", 1)[-1] == target:
                    found.append(RuleRef(source, bucket, target, rule.get("ID", ""), owner))
        return found, unread

    def backlog(self, info: MrapInfo, destination: str, *, window_seconds: int = 900) -> Backlog:
        """The replication backlog into ``destination``: per rule into it, the latest ``OperationsPendingReplication``,
        ``BytesPendingReplication``, ``ReplicationLatency`` and ``OperationsFailedReplication`` (S3 replication
        metrics, https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html), summed (latency: the
        maximum). A rule without datapoints in the window counts as nothing pending (S3 publishes while it works),
        once the metrics were read in the source bucket's own account. What cannot be read (a source's rules or
        metrics: another account's bucket without a reader role, AccessDenied, ...) makes the backlog *unknown*,
        which is never in sync."""
        if destination not in info.buckets:
            raise MrapError("InvalidRegion", f"{destination} is not a Region of MRAP {info.name} "
                                             f"(Regions: {', '.join(info.regions)})")
        rules, unread = self._rules_into(info, destination)
        result = Backlog(destination=destination, rules=len(rules), unknown=unread)
        now = time.time()
        for rule in rules:
            try:
                values = self._latest_metrics(rule, window_seconds, now)
            except MrapError as err:
                result.unknown.append(f"the metrics of rule {rule.rule_id} of {rule.source_bucket} could not be "
                                      f"read: {err}")
                continue
            result.pending_operations += values.get("OperationsPendingReplication", 0.0)
            result.pending_bytes += values.get("BytesPendingReplication", 0.0)
            result.failed_operations += values.get("OperationsFailedReplication", 0.0)
            result.latency_seconds = max(result.latency_seconds, values.get("ReplicationLatency", 0.0))
            result.reporting += bool(values)
        return result

    def _latest_metrics(self, rule: RuleRef, window_seconds: int, now: float) -> dict[str, float]:
        import datetime as _dt

        dimensions = [{"Name": "SourceBucket", "Value": rule.source_bucket},
                      {"Name": "DestinationBucket", "Value": rule.destination_bucket},
                      {"Name": "RuleId", "Value": rule.rule_id}]
        queries = [{"Id": f"m{i}", "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/S3", "MetricName": name, "Dimensions": dimensions},
            "Period": 60, "Stat": "Maximum"}} for i, name in enumerate(BACKLOG_METRICS)]
        response = self.call(self.cloudwatch(rule.source_region, rule.source_account).get_metric_data,
                             MetricDataQueries=queries,
                             StartTime=_dt.datetime.fromtimestamp(now - window_seconds, _dt.UTC),
                             EndTime=_dt.datetime.fromtimestamp(now + 60, _dt.UTC), ScanBy="TimestampDescending")
        values = {}
        for series in response.get("MetricDataResults", []):
            if series.get("Values"):
                values[BACKLOG_METRICS[int(series["Id"][1:])]] = float(series["Values"][0])  # newest first
        return values

    def backfill_jobs(self, info: MrapInfo) -> list[BackfillJob]:
        """The MRAP's backfill jobs (S3 Batch Replication, found by their Description ``mrap-backfill NAME ...``)
        in each of its Regions, with their progress from ``DescribeJob``; sorted by Region, then by creation time,
        oldest first (so the last job of a Region is its newest)."""
        jobs = []
        for region in info.regions:
            control = self.s3control(region)
            listed: list[dict[str, Any]] = []
            token = None
            while True:
                page = self.call(control.list_jobs, AccountId=self.account,
                                 **({"NextToken": token} if token else {}))
                listed += page.get("Jobs", [])
                token = page.get("NextToken")
                if not token:
                    break
            for item in listed:
                words = (item.get("Description") or "").split()
                if len(words) != 4 or words[0] != BACKFILL_DESCRIPTION_PREFIX or words[1] != info.name:
                    continue
                job = self.call(control.describe_job, AccountId=self.account, JobId=item["JobId"])["Job"]
                progress = job.get("ProgressSummary", {})
                jobs.append(BackfillJob(
                    region=words[2], key=words[3], job_id=job["JobId"], status=job.get("Status", "Unknown"),
                    total=int(progress.get("TotalNumberOfTasks", 0)),
                    succeeded=int(progress.get("NumberOfTasksSucceeded", 0)),
                    failed=int(progress.get("NumberOfTasksFailed", 0)),
                    created=str(job.get("CreationTime", ""))))
        return sorted(jobs, key=lambda j: (j.region, j.created))

    def activation_problems(self, info: MrapInfo, region: str) -> list[str]:
        """What stands between ``region`` and taking traffic: each backfill job into it that has not completed
        without failures, and its replication backlog. Empty when it may be activated."""
        if region not in info.buckets:
            raise MrapError("InvalidRegion", f"{region} is not a Region of MRAP {info.name} "
                                             f"(Regions: {', '.join(info.regions)})")
        sources = {rule.source_region for rule in self._rules_into(info, region)[0]}
        latest: dict[str, BackfillJob] = {}
        for job in self.backfill_jobs(info):
            if job.region in sources:
                latest[job.region] = job  # sorted by creation: the last one wins
        problems = []
        if not latest:
            named = ", ".join(sorted(sources)) or "none"
            problems.append(f"no backfill job replicates into {region} (sources: {named})")
        for job in latest.values():
            if job.status != "Complete" or job.failed:
                problems.append(f"backfill job {job.job_id} from {job.region} is {job.status} "
                                f"({job.succeeded}/{job.total} done, {job.failed} failed)")
        backlog = self.backlog(info, region)
        if not backlog.in_sync:
            problems.append(backlog.describe())
        return problems


#: The replication metrics the backlog reads (AWS/S3, per rule; latency in seconds).
BACKLOG_METRICS = ("OperationsPendingReplication", "BytesPendingReplication", "ReplicationLatency",
                   "OperationsFailedReplication")
#: The first word of a backfill job's Description (``mrap_constructs.backfill.job_description``).
BACKFILL_DESCRIPTION_PREFIX = "mrap-backfill"


@dataclass(frozen=True)
class RuleRef:
    """One replication rule: from ``source_bucket`` (in ``source_region``) to ``destination_bucket``."""

    source_region: str
    source_bucket: str
    destination_bucket: str
    rule_id: str
    #: The source bucket's owner when not the client's account (its metrics are read there).
    source_account: str | None = None


@dataclass
class Backlog:
    """What is still on its way into ``destination`` (sums over the rules into it; latency: the maximum)."""

    destination: str
    rules: int = 0
    reporting: int = 0
    pending_operations: float = 0.0
    pending_bytes: float = 0.0
    failed_operations: float = 0.0
    latency_seconds: float = 0.0
    #: Why part of the backlog could not be read; any entry makes it unknown.
    unknown: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        """Nothing pending, and every rule into the destination read: an unknown backlog is never in sync."""
        return not self.unknown and self.pending_operations == 0 and self.pending_bytes == 0

    def describe(self) -> str:
        """One line: ``{region} is behind: N operations (B bytes) pending, oldest ~S s`` (or in sync, or unknown)."""
        if self.unknown:
            return f"{self.destination} is unknown: " + "; ".join(self.unknown)
        if self.in_sync:
            return f"{self.destination} is in sync ({self.rules} rules into it, nothing pending)"
        return (f"{self.destination} is behind: {self.pending_operations:.0f} operations "
                f"({self.pending_bytes:.0f} bytes) pending replication, oldest ~{self.latency_seconds:.0f} s "
                f"(ReplicationLatency)")

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.destination, "in_sync": self.in_sync, "unknown": list(self.unknown),
                "rules": self.rules,
                "rules_reporting": self.reporting, "pending_operations": self.pending_operations,
                "pending_bytes": self.pending_bytes, "failed_operations": self.failed_operations,
                "latency_seconds": self.latency_seconds}


@dataclass(frozen=True)
class BackfillJob:
    """One S3 Batch Replication job of a backfill, as ``DescribeJob`` reports it."""

    region: str
    key: str
    job_id: str
    status: str
    total: int
    succeeded: int
    failed: int
    created: str = ""

    @property
    def done(self) -> bool:
        return self.status == "Complete" and self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "key": self.key, "job_id": self.job_id, "status": self.status,
                "total": self.total, "succeeded": self.succeeded, "failed": self.failed, "created": self.created}
