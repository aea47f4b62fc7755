"""The smoke test: write through the MRAP, read it back, time replication into every bucket, clean up."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mrap_runtime.client import MrapClient, MrapError, MrapInfo

#: Keys the smoke test writes start with this prefix (exclude it from replication alarms if you like).
SMOKE_PREFIX = "mrap-smoke/"
#: Hosts of a local emulator (``make deploy-local``), which serves no MRAP data plane by itself.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class LocalDataPlaneProxy:
    """The local data plane's HTTPS proxy, as its block names it (``HTTPS_PROXY``, ``AWS_CA_BUNDLE``)."""

    proxy_url: str
    ca_bundle: str


def local_data_plane(environ: Mapping[str, str] | None = None) -> LocalDataPlaneProxy | None:
    """The local data plane ``environ`` points at (the block ``make deploy-local KEEP=1`` prints), if it answers:
    ``HTTPS_PROXY`` on 127.0.0.1/localhost accepting connections, and ``AWS_CA_BUNDLE`` an existing file."""
    environ = os.environ if environ is None else environ
    proxy = environ.get("HTTPS_PROXY") or environ.get("https_proxy") or ""
    bundle = environ.get("AWS_CA_BUNDLE") or ""
    parts = urlsplit(proxy)
    if parts.hostname not in LOCAL_HOSTS or not parts.port or not os.path.isfile(bundle):
        return None
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            pass
    except OSError:
        return None
    return LocalDataPlaneProxy(proxy, bundle)


def require_global_endpoint(client: MrapClient, environ: Mapping[str, str] | None = None) -> None:
    """Raise ``MrapError`` if ``client`` talks to a local emulator with no data plane in front of it: the smoke test
    reads and writes through the MRAP itself, which AWS serves (SigV4A-signed requests to
    ``{alias}.accesspoint.s3-global.amazonaws.com``) and, locally, only the data plane's proxy
    (``local_data_plane``)."""
    host = urlsplit(client.endpoint_url or "").hostname
    if host in LOCAL_HOSTS and local_data_plane(environ) is None:
        raise MrapError("NeedsGlobalEndpoint",
                        f"smoke needs the real global endpoint (SigV4A through *.accesspoint.s3-global.amazonaws.com); "
                        f"the emulator at {client.endpoint_url} has no MRAP data plane reachable (export the data "
                        f"plane's lines from `make deploy-local KEEP=1`, or use `mrap status` there)")


def _data_client(client: MrapClient, region: str) -> Any:
    """The client for calls through the MRAP: AWS's S3, or, against a local emulator, one through the data plane's
    proxy. botocore picks proxies from a client's endpoint URL, and a shell may still hold the emulator's in
    ``NO_PROXY`` (the block unsets it), so the proxy and the CA are given explicitly."""
    dataplane = local_data_plane() if urlsplit(client.endpoint_url or "").hostname in LOCAL_HOSTS else None
    if dataplane is None:
        return client.s3(region)
    from botocore.config import Config

    return client.session.client("s3", region_name=region, endpoint_url=client.endpoint_url,
                                 verify=dataplane.ca_bundle,
                                 config=Config(proxies={"https": dataplane.proxy_url}, retries={"max_attempts": 2}))


@dataclass
class SmokeResult:
    """What one smoke run measured. ``lag_seconds[region]`` is None when the object never arrived."""

    key: str
    read_back: bool
    lag_seconds: dict[str, float | None] = field(default_factory=dict)
    cleaned_up: bool = False

    @property
    def ok(self) -> bool:
        return self.read_back and all(v is not None for v in self.lag_seconds.values())

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "read_back": self.read_back, "lag_seconds": self.lag_seconds,
                "cleaned_up": self.cleaned_up, "ok": self.ok}


def smoke(client: MrapClient, info: MrapInfo, *, timeout: float = 900, interval: float | None = None,
          via: str | None = None, data_region: str = "us-east-1") -> SmokeResult:
    """PUT an object through the MRAP, GET it back, then poll each bucket until the object is there.

    Args:
        client: the MRAP client.
        info: the MRAP (``client.describe(name)``).
        timeout: how long to wait for replication into all buckets. Default: 15 minutes (the RTC SLA).
        interval: polling interval. Default: 5 s; 0.1 s against a local data plane (its lag is a fraction of a
            second).
        via: the ``Bucket`` parameter of the data-plane calls. Default: the MRAP ARN (SigV4A; needs ``awscrt``).
        data_region: Region of the data-plane client (any; the MRAP routes the request). Default: us-east-1.

    Raises:
        MrapError: ``NeedsGlobalEndpoint`` when ``client`` points at a local emulator (127.0.0.1/localhost) and no
            local data plane is reachable (``local_data_plane``).
    """
    require_global_endpoint(client)
    local = urlsplit(client.endpoint_url or "").hostname in LOCAL_HOSTS
    interval = interval if interval is not None else (0.1 if local else 5)
    key = f"{SMOKE_PREFIX}{uuid.uuid4().hex}.txt"
    body = f"mrap smoke test {key}".encode()
    target = via or info.arn
    data = _data_client(client, data_region)
    client.call(data.put_object, Bucket=target, Key=key, Body=body)
    result = SmokeResult(key=key, read_back=False)
    try:
        read = client.call(data.get_object, Bucket=target, Key=key)["Body"].read()
        result.read_back = read == body
        pending = dict(info.buckets)
        started = client.clock()
        deadline = started + timeout
        while pending:
            for region, bucket in list(pending.items()):
                if _exists(client, region, bucket, key):
                    result.lag_seconds[region] = round(client.clock() - started, 3)
                    del pending[region]
            if not pending or client.clock() + interval > deadline:
                break
            client.sleep(interval)
        for region in pending:
            result.lag_seconds[region] = None
    finally:
        result.cleaned_up = _clean_up(client, info, key)
    return result


def _exists(client: MrapClient, region: str, bucket: str, key: str) -> bool:
    try:
        client.call(client.s3(region).head_object, Bucket=bucket, Key=key)
        return True
    except MrapError as err:
        if err.code in ("404", "NoSuchKey", "NotFound"):
            return False
        raise


def _clean_up(client: MrapClient, info: MrapInfo, key: str) -> bool:
    """Delete every version of ``key`` in every bucket (replicas included), so nothing is left behind."""
    cleaned = True
    for region, bucket in info.buckets.items():
        s3 = client.s3(region)
        try:
            listing = client.call(s3.list_object_versions, Bucket=bucket, Prefix=key)
            for version in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
                if version["Key"] == key:
                    client.call(s3.delete_object, Bucket=bucket, Key=key, VersionId=version["VersionId"])
        except MrapError:
            cleaned = False
    return cleaned
