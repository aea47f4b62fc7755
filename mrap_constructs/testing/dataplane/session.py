"""The whole local data plane in one object: emulator, replication engine, global endpoint, HTTPS proxy.

Example:
    with LocalDataPlane(delay=0.05) as dp:
        mrap = dp.create_mrap("media", ["us-east-1", "eu-west-1"])
        env = {k: v for k, v in os.environ.items() if k not in UNSET}
        subprocess.run([sys.executable, "app.py"], env={**env, **dp.environment()}, check=True)
        dp.wait_idle()
"""

from __future__ import annotations

import json
import os
import shlex
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from mrap_constructs import _perms
from mrap_constructs.testing.dataplane import moto_hooks
from mrap_constructs.testing.dataplane.gateway import SERVED_BY_HEADER, DataPlane
from mrap_constructs.testing.dataplane.proxy import UNSET, MrapProxy
from mrap_constructs.testing.dataplane.replication import ReplicationEngine, find_bucket
from mrap_constructs.testing.emulator import LocalAws

#: Where a client runs when nobody says: ``MRAP_EMULATOR_CLIENT_REGION``, else the first Region of the MRAP.
CLIENT_REGION_VARIABLE = "MRAP_EMULATOR_CLIENT_REGION"


@dataclass
class Mrap:
    """An MRAP in the emulator: name, alias, ARN, ``{region: bucket}``."""

    name: str
    alias: str
    arn: str
    buckets: dict[str, str] = field(default_factory=dict)

    @property
    def hostname(self) -> str:
        return f"{self.alias}.accesspoint.s3-global.amazonaws.com"


class LocalDataPlane:
    """Start (and stop) the emulator with the MRAP data plane in front of it.

    Args:
        aws: a started emulator to use. Default: a new ``LocalAws`` is started (and stopped).
        delay: replication lag in seconds. Default: 0.2.
        client_region: the Region requests come from. Default: ``$MRAP_EMULATOR_CLIENT_REGION``, else the first
            Region of the first MRAP created, else ``us-east-1``.
        account: the account ``environment()``'s default profile acts in. Default: the emulator's default account.
        accounts: more accounts a program may act in (a ``mrap-ACCOUNT`` profile each; ``account`` always has one).
            Default: none.
        routes_delay: seconds between a routes update (``SubmitMultiRegionAccessPointRoutes``, ``fail_over``) and
            the data plane routing by it; AWS takes up to 120 (S3 Control API Reference,
            SubmitMultiRegionAccessPointRoutes). Default: ``$MRAP_EMULATOR_ROUTES_DELAY``, else 0 (at once).
    """

    def __init__(self, aws: LocalAws | None = None, *, delay: float = 0.2, client_region: str | None = None,
                 account: str | None = None, accounts: list[str] | None = None,
                 routes_delay: float | None = None) -> None:
        self.account = account
        self.accounts = list(accounts or [])
        self._own_aws = aws is None
        self.aws = aws or LocalAws()
        if routes_delay is not None:
            self.aws.state.routes_delay = routes_delay
        self.hooks: moto_hooks.Hooks | None = None
        self._hooks: ExitStack | None = None
        self.engine = ReplicationEngine(delay=delay)
        self._client_region_set = bool(client_region or os.environ.get(CLIENT_REGION_VARIABLE))
        self.plane = DataPlane(endpoint_url=self.aws.endpoint_url,
                               client_region=client_region or os.environ.get(CLIENT_REGION_VARIABLE, "us-east-1"))
        self.proxy = MrapProxy(self.plane)

    def start(self) -> LocalDataPlane:
        if self._own_aws:
            self.aws.start()
        self.plane.endpoint_url = self.aws.endpoint_url
        self.plane.state = self.aws.state
        self.engine.start()
        self._hooks = ExitStack()
        self.hooks = self._hooks.enter_context(moto_hooks.installed(self.engine))
        self.proxy.start()
        return self

    def stop(self) -> None:
        self.proxy.stop()
        if self._hooks is not None:
            self._hooks.close()
            self._hooks = self.hooks = None
        self.engine.stop()
        if self._own_aws:
            self.aws.stop()

    def __enter__(self) -> LocalDataPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a test or a shell needs --------------------------------------------------------------------------
    def set_client_region(self, region: str) -> None:
        """Route the next requests (of clients whose proxy URL names no Region) as if made from ``region``."""
        self.plane.client_region = region
        self._client_region_set = True

    def environment(self, client_region: str | None = None) -> dict[str, str]:
        """What an unchanged AWS program needs in its environment (``export_lines`` as a dict, applied after
        removing ``proxy.UNSET``): the emulator as ``AWS_ENDPOINT_URL``, every request through the proxy, and the
        ``default`` profile acting in ``account`` (``mrap-ACCOUNT`` profiles for each of ``accounts``)."""
        account = self.account or self.aws.account
        credentials = {a: self.aws.credentials(a) for a in dict.fromkeys([account, *self.accounts])}
        return self.proxy.environment(self.aws.endpoint_url, client_region, credentials=credentials, account=account)

    def export_lines(self, client_region: str | None = None) -> list[str]:
        """The one block to paste into a shell: ``unset`` what would bypass the proxy, ``export`` ``environment()``."""
        return ["unset " + " ".join(UNSET),
                *(f"export {name}={shlex.quote(value)}" for name, value in self.environment(client_region).items())]

    def s3_client(self, client_region: str | None = None) -> Any:
        """A boto3 S3 client that reaches MRAP ARNs through the proxy (as an application's would), acting in
        ``account``; from ``client_region``, else from wherever ``set_client_region`` says at each request."""
        import boto3
        from botocore.config import Config

        env = self.environment(client_region)
        keys = self.aws.credentials(self.account or self.aws.account)
        return boto3.client("s3", region_name=env["AWS_REGION"], endpoint_url=self.aws.endpoint_url,
                            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=keys.get("AWS_SESSION_TOKEN"),
                            verify=env["AWS_CA_BUNDLE"],
                            # No Region in the proxy URL unless asked: the client follows set_client_region.
                            config=Config(proxies={"https": self.proxy.proxy_url(client_region)},
                                          retries={"max_attempts": 1}, max_pool_connections=16))

    def wait_idle(self, timeout: float = 30) -> bool:
        return self.engine.wait_idle(timeout)

    def served_by(self, response: dict[str, Any]) -> str | None:
        """The Region that served a boto3 response through the MRAP (the emulator's own header)."""
        return response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get(SERVED_BY_HEADER)

    # -- set up without CDK ------------------------------------------------------------------------------------
    def create_mrap(self, name: str, regions: list[str], *, two_way: bool = True, delete_markers: bool = True,
                    metrics: bool = True, prefix: str = "", role_actions: tuple[str, ...] | None = None,
                    bucket_prefix: str | None = None) -> Mrap:
        """Buckets (versioned) in ``regions``, a replication role, rules and the MRAP, straight with boto3.

        Args:
            name: the MRAP name.
            regions: bucket Regions (the first is the client Region unless one was set).
            two_way: a full mesh of rules; False: one-way from the first Region to the others. Default: True.
            delete_markers: ``DeleteMarkerReplication`` of every rule. Default: True.
            metrics: replication metrics on every rule. Default: True.
            prefix: every rule's prefix filter. Default: all objects.
            role_actions: the role's allowed actions. Default: the project's replication actions.
            bucket_prefix: buckets are ``{bucket_prefix}-{account}-{region}`` (at most 63 characters). Default:
                the MRAP name.
        """
        account = self.aws.account
        buckets = {region: f"{bucket_prefix or name}-{account}-{region}" for region in regions}
        for region, bucket in buckets.items():
            s3 = self.aws.client("s3", region)
            config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=bucket, **config)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        role = self._role(f"{(bucket_prefix or name)[:50]}-replication", role_actions)
        sources = regions if two_way else regions[:1]
        for source in sources:
            rules = [{"ID": f"to-{region}", "Priority": index, "Status": "Enabled", "Filter": {"Prefix": prefix},
                      "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
                      "Destination": {"Bucket": f"arn:aws:s3:::{bucket}",
                                      **({"Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}
                                         if metrics else {})}}
                     for index, (region, bucket) in enumerate(sorted(buckets.items())) if region != source]
            if rules:
                self.aws.client("s3", source).put_bucket_replication(
                    Bucket=buckets[source], ReplicationConfiguration={"Role": role, "Rules": rules})
        control = self.aws.client("s3control", "us-west-2")
        control.create_multi_region_access_point(AccountId=account, ClientToken=name, Details={
            "Name": name, "Regions": [{"Bucket": b} for b in buckets.values()]})
        alias = control.get_multi_region_access_point(AccountId=account, Name=name)["AccessPoint"]["Alias"]
        if not self._client_region_set:
            self.set_client_region(regions[0])
        return Mrap(name, alias, f"arn:aws:s3::{account}:accesspoint/{alias}", buckets)

    def _role(self, name: str, actions: tuple[str, ...] | None) -> str:
        iam = self.aws.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "s3.amazonaws.com"}}]}
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        allowed = list(actions if actions is not None else (
            *_perms.REPLICATION_SOURCE_BUCKET_ACTIONS, *_perms.REPLICATION_SOURCE_OBJECT_ACTIONS,
            *_perms.REPLICATION_DESTINATION_ACTIONS))
        iam.put_role_policy(RoleName=name, PolicyName="replication", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}))
        return arn

    def mrap(self, name: str) -> Mrap:
        """An MRAP already in the emulator (deployed by CDK, or ``create_mrap``)."""
        control = self.aws.client("s3control", "us-west-2")
        point = control.get_multi_region_access_point(AccountId=self.aws.account, Name=name)["AccessPoint"]
        return Mrap(name, point["Alias"], f"arn:aws:s3::{self.aws.account}:accesspoint/{point['Alias']}",
                    {r["Region"]: r["Bucket"] for r in point["Regions"]})

    def fail_over(self, mrap: Mrap, to: str | list[str]) -> None:
        """Make ``to`` the only active Region(s), through the routes API (as ``mrap failover`` does)."""
        active = {to} if isinstance(to, str) else set(to)
        control = self.aws.client("s3control", "us-west-2")
        control.submit_multi_region_access_point_routes(AccountId=self.aws.account, Mrap=mrap.arn, RouteUpdates=[
            {"Region": region, "TrafficDialPercentage": 100 if region in active else 0} for region in mrap.buckets])

    def wait_replicated(self, mrap: Mrap, key: str, version_id: str | None = None, *, timeout: float = 30) -> str:
        """Wait until ``key`` (its latest version, or ``version_id``) is in every bucket of ``mrap``; return the
        version id. Raises ``TimeoutError`` with what is missing."""
        deadline = time.monotonic() + timeout
        while True:
            missing = []
            for region, bucket in mrap.buckets.items():
                found = find_bucket(bucket)
                versions = found[1].keys.getlist(key, []) if found else []
                live = [v for v in versions if hasattr(v, "value")]
                if version_id is None and live:
                    version_id = str(live[-1].version_id)
                if not any(str(v.version_id) == str(version_id) for v in versions):
                    missing.append(region)
            if not missing and version_id is not None:
                return version_id
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} ({version_id}) not in {missing} after {timeout} s")
            time.sleep(0.02)
