"""Where the conformance cases run: a set of endpoints and credentials with the same boto3 surface everywhere.

A ``Target`` hands out plain boto3 clients (``s3``, ``s3control``, ``iam``, ``sts``, ``cloudwatch``), an S3 client
that reaches MRAP ARNs, and raw HTTP to the MRAP's global endpoint. The cases use nothing else, so one case runs
unchanged against:

- ``EmulatorTarget``: this project's emulator (``LocalAws``) with its data plane (``LocalDataPlane``: the HTTPS proxy
  with a local CA that unchanged boto3 code reaches MRAP ARNs through);
- ``AwsTarget``: a real AWS account, with the credentials of the environment (never used unless the user opts in);
- ``EndpointTarget``: another emulator at a URL (control plane at the URL; MRAP requests, which botocore always
  sends to ``https://{alias}.accesspoint.s3-global.amazonaws.com``, redirected to the URL with their ``Host`` kept).

Why a target also says how long to wait: AWS applies a routes change within 2 minutes (S3 API Reference,
``SubmitMultiRegionAccessPointRoutes``) and replicates within seconds to minutes; an emulator does both at once.
"""

from __future__ import annotations

import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

#: Regions of the buckets (two MRAP Regions that also serve the routes API).
DEFAULT_REGIONS = ("us-east-1", "eu-west-1")
#: Where the MRAP control plane is served (S3 User Guide, "Using Multi-Region Access Points with supported API
#: operations": "All control plane requests to create or maintain Multi-Region Access Points must be routed to the
#: US West (Oregon) Region").
CONTROL_REGION = "us-west-2"


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class Target:
    """Endpoints, credentials and timing of one place the cases run.

    Attributes:
        name: the column of the results table.
        account: the account the suite acts in.
        regions: bucket Regions (the first two are used).
        client_region: where requests come from, when the target knows (routing cases need it), else None.
        settle_seconds: how long a case waits before asserting that something did *not* happen.
        replication_timeout: how long a case waits for a replica.
        route_timeout: how long a case waits for a routes change to take effect.
        other_account: a second account the suite may act in (cross-account cases), else None.
    """

    name = "target"
    regions: tuple[str, ...] = DEFAULT_REGIONS
    client_region: str | None = None
    settle_seconds = 1.0
    replication_timeout = 30.0
    route_timeout = 10.0
    metrics_timeout = 30.0
    other_account: str | None = None
    #: True when the target can afford cases that create many buckets (18 Regions).
    allows_many_buckets = True

    def start(self) -> None:
        """Start what the target needs (an emulator), before ``account`` is read."""

    def stop(self) -> None:
        """Stop what ``start`` started."""

    @property
    def account(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    # -- clients -----------------------------------------------------------------------------------------------
    def client(self, service: str, region: str = "us-east-1", *, account: str | None = None,
               credentials: dict[str, str] | None = None, validate: bool = True) -> Any:
        """A boto3 client for ``service`` in ``region`` (``account``: act in the other account; ``credentials``:
        ``AWS_ACCESS_KEY_ID``-style keys to sign with instead)."""
        raise NotImplementedError

    def mrap_s3(self, credentials: dict[str, str] | None = None, *, signature: str | None = None) -> Any:
        """An S3 client whose requests to MRAP ARNs reach this target's global endpoint (``signature``: force a
        signer, e.g. ``s3v4``, to see a wrong one refused)."""
        raise NotImplementedError

    def http(self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> HttpAnswer:
        """Send a raw HTTPS request to the global endpoint (a presigned URL, an unsigned request)."""
        raise NotImplementedError

    def tls_version(self, host: str, *, tls13_only: bool = False) -> str:
        """The TLS version the global endpoint at ``host`` negotiates (``tls13_only``: offer only TLS 1.3); raises
        ``ssl.SSLError`` / ``OSError`` when the handshake is refused."""
        raise NotImplementedError

    def settle(self) -> None:
        """Wait until nothing more will happen on its own (replication in flight), before a negative assertion."""
        time.sleep(self.settle_seconds)

    def credentials_for(self, account: str) -> dict[str, str]:
        """Keys acting in ``account`` (the target's own, or the other account's)."""
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


def _force_signer(client: Any, signature: str | None) -> Any:
    if signature:
        client.meta.events.register("choose-signer.s3.*", lambda **_: signature)
    return client


def _creds(credentials: dict[str, str] | None) -> dict[str, str]:
    if not credentials:
        return {}
    return {"aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
            **({"aws_session_token": credentials["AWS_SESSION_TOKEN"]} if credentials.get("AWS_SESSION_TOKEN")
               else {})}


class EmulatorTarget(Target):
    """This project's emulator and data plane, started in-process on 127.0.0.1.

    Args:
        dataplane: a started ``LocalDataPlane`` to use. Default: one is started (and stopped).
        delay: replication lag of a new data plane, in seconds. Default: 0.05.
    """

    name = "emulator"
    settle_seconds = 0.0
    other_account = "210987654321"

    def __init__(self, dataplane: Any = None, *, delay: float = 0.05, client_region: str = "eu-west-1") -> None:
        self._own = dataplane is None
        self.dataplane = dataplane
        self.delay = delay
        self.client_region = client_region

    def start(self) -> None:
        from mrap_constructs.testing.dataplane.session import LocalDataPlane

        if self.dataplane is None:
            self.dataplane = LocalDataPlane(delay=self.delay)
            self.dataplane.start()
        self.dataplane.set_client_region(self.client_region)

    def stop(self) -> None:
        if self._own and self.dataplane is not None:
            self.dataplane.stop()
            self.dataplane = None

    @property
    def account(self) -> str:
        return str(self.dataplane.aws.account)

    def credentials_for(self, account: str) -> dict[str, str]:
        return self.dataplane.aws.credentials(account)

    def client(self, service: str, region: str = "us-east-1", *, account: str | None = None,
               credentials: dict[str, str] | None = None, validate: bool = True) -> Any:
        import boto3
        from botocore.config import Config

        keys = credentials or self.credentials_for(account or self.account)
        client = boto3.client(service, region_name=region, endpoint_url=self.dataplane.aws.endpoint_url,
                              config=Config(parameter_validation=validate, retries={"max_attempts": 1}),
                              **_creds(keys))
        if service == "s3control":
            from mrap_constructs.ops.client import strip_account_host_prefix

            client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
        return client

    def mrap_s3(self, credentials: dict[str, str] | None = None, *, signature: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        env = self.dataplane.environment()
        client = boto3.client("s3", region_name=env["AWS_REGION"], endpoint_url=self.dataplane.aws.endpoint_url,
                              verify=env["AWS_CA_BUNDLE"],
                              config=Config(proxies={"https": env["HTTPS_PROXY"]}, retries={"max_attempts": 1}),
                              **_creds(credentials or self.credentials_for(self.account)))
        return _force_signer(client, signature)

    def http(self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> HttpAnswer:
        import requests

        env = self.dataplane.environment()
        answer = requests.request(method, url, headers=headers or {}, data=body, timeout=30,
                                  proxies={"https": env["HTTPS_PROXY"]}, verify=env["AWS_CA_BUNDLE"])
        return HttpAnswer(answer.status_code, dict(answer.headers), answer.content)

    def tls_version(self, host: str, *, tls13_only: bool = False) -> str:
        import http.client

        env = self.dataplane.environment()
        proxy = urllib.parse.urlsplit(env["HTTPS_PROXY"])
        context = ssl.create_default_context(cafile=env["AWS_CA_BUNDLE"])
        if tls13_only:
            context.minimum_version = ssl.TLSVersion.TLSv1_3
        connection = http.client.HTTPSConnection(proxy.hostname, proxy.port, context=context, timeout=10)
        connection.set_tunnel(host, 443)
        try:
            connection.connect()
            return str(connection.sock.version())
        finally:
            connection.close()

    def settle(self) -> None:
        self.dataplane.wait_idle(30)


class AwsTarget(Target):
    """A real AWS account, with the credentials and profile of the environment (boto3's default chain).

    Args:
        client_region: the Region nearest to where the suite runs, if known (the routing case that needs it is
            skipped otherwise).
        other_profile: a named profile acting in a second account, for the cross-account cases. Default: none
            (those cases are skipped).
    """

    name = "aws"
    settle_seconds = 120.0
    replication_timeout = 900.0
    route_timeout = 300.0
    metrics_timeout = 1200.0
    allows_many_buckets = False

    def __init__(self, *, client_region: str | None = None, other_profile: str | None = None) -> None:
        import boto3

        self.client_region = client_region
        self._session = boto3.session.Session()
        self._other = boto3.session.Session(profile_name=other_profile) if other_profile else None
        self.other_account = (str(self._other.client("sts").get_caller_identity()["Account"])
                              if self._other else None)

    def credentials_for(self, account: str) -> dict[str, str]:
        session = self._other if (self._other and account == self.other_account) else self._session
        frozen = session.get_credentials().get_frozen_credentials()
        return {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
                **({"AWS_SESSION_TOKEN": frozen.token} if frozen.token else {})}

    def client(self, service: str, region: str = "us-east-1", *, account: str | None = None,
               credentials: dict[str, str] | None = None, validate: bool = True) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(parameter_validation=validate)
        if credentials:
            return boto3.client(service, region_name=region, config=config, **_creds(credentials))
        session = self._other if (account and account == self.other_account and self._other) else self._session
        return session.client(service, region_name=region, config=config)

    def mrap_s3(self, credentials: dict[str, str] | None = None, *, signature: str | None = None) -> Any:
        return _force_signer(self.client("s3", "us-east-1", credentials=credentials), signature)

    def http(self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> HttpAnswer:
        import requests

        answer = requests.request(method, url, headers=headers or {}, data=body, timeout=30)
        return HttpAnswer(answer.status_code, dict(answer.headers), answer.content)

    def tls_version(self, host: str, *, tls13_only: bool = False) -> str:
        import socket

        context = ssl.create_default_context()
        if tls13_only:
            context.minimum_version = ssl.TLSVersion.TLSv1_3
        with socket.create_connection((host, 443), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=host) as sock:
            return str(sock.version())


class EndpointTarget(Target):
    """Another emulator at ``url`` (e.g. ``http://127.0.0.1:4566``), with throwaway credentials.

    MRAP requests are sent to ``url`` with the MRAP's host name in ``Host`` (a ``before-send`` hook), so an emulator
    that serves ``{alias}.accesspoint.s3-global.amazonaws.com`` by virtual host answers them; an ``http://`` URL
    means no TLS at all.
    """

    settle_seconds = 1.0
    replication_timeout = 10.0
    metrics_timeout = 10.0
    other_account = None

    def __init__(self, url: str, *, name: str | None = None, client_region: str | None = None,
                 access_key: str = "test", secret_key: str = "test") -> None:
        self.url = url.rstrip("/")
        self.name = name or url
        self.client_region = client_region
        self.keys = {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}

    def credentials_for(self, account: str) -> dict[str, str]:
        return self.keys

    def client(self, service: str, region: str = "us-east-1", *, account: str | None = None,
               credentials: dict[str, str] | None = None, validate: bool = True) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(parameter_validation=validate, inject_host_prefix=False, retries={"max_attempts": 1},
                        s3={"addressing_style": "path"})
        client = boto3.client(service, region_name=region, endpoint_url=self.url, config=config,
                              **_creds(credentials or self.keys))
        if service == "s3control":
            from mrap_constructs.ops.client import strip_account_host_prefix

            client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
        return client

    def _redirect(self, request: Any, **_: Any) -> None:
        parts = urllib.parse.urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith(".accesspoint.s3-global.amazonaws.com"):
            request.headers["Host"] = parts.netloc
            base = urllib.parse.urlsplit(self.url)
            request.url = urllib.parse.urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def mrap_s3(self, credentials: dict[str, str] | None = None, *, signature: str | None = None) -> Any:
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", region_name="us-east-1", config=Config(retries={"max_attempts": 1}),
                              **_creds(credentials or self.keys))
        client.meta.events.register_last("before-send.s3.*", self._redirect)
        return _force_signer(client, signature)

    def http(self, method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> HttpAnswer:
        import requests

        parts = urllib.parse.urlsplit(url)
        base = urllib.parse.urlsplit(self.url)
        answer = requests.request(method, urllib.parse.urlunsplit((base.scheme, base.netloc, parts.path,
                                                                   parts.query, "")),
                                  headers={**(headers or {}), "Host": parts.netloc}, data=body, timeout=30)
        return HttpAnswer(answer.status_code, dict(answer.headers), answer.content)

    def tls_version(self, host: str, *, tls13_only: bool = False) -> str:
        if urllib.parse.urlsplit(self.url).scheme != "https":
            raise ssl.SSLError(f"{self.url} serves plain HTTP: no TLS is negotiated at all")
        import socket

        base = urllib.parse.urlsplit(self.url)
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if tls13_only:
            context.minimum_version = ssl.TLSVersion.TLSv1_3
        with socket.create_connection((base.hostname, base.port or 443), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=host) as sock:
            return str(sock.version())
