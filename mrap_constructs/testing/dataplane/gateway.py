"""The MRAP global endpoint: verify SigV4A, pick the bucket by the dials, hand the request to that bucket.

AWS: a request to ``{alias}.accesspoint.s3-global.amazonaws.com`` is an S3 request for the bucket the MRAP routes
it to (S3 User Guide, "Making requests through a Multi-Region Access Point"): same path, query and headers, signed
with SigV4A in the headers or a presigned URL (``sigv4a``), one of the operations MRAPs serve (``operations``; the
others are refused before any bucket sees them), routed to the nearest active Region (``routing``); what that
bucket answers is the answer.

The gateway hands the request to the emulator's S3 in this process (``in_process.InProcessS3``: moto's S3 WSGI
app, with the environ moto's server would build; no second HTTP hop) path-style, re-signed with SigV4 for the
bucket's Region under the caller's own access key (so moto sees the same account), after decoding the SDK's
``aws-chunked`` body (botocore streams PutObject with ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` and a CRC32 trailer;
the trailer checksum is passed on as a header). Chunk signatures of ``STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD``
bodies are not verified (the seed signature over the headers is).

Emulator-only response header: ``x-mrap-emulator-region`` names the Region that served the request (S3 does not
say; tests and ``mrap smoke`` use it to see a failover).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from mrap_constructs.testing.dataplane import access_policy, operations, routing, sigv4a
from mrap_constructs.testing.dataplane.in_process import InProcessS3
from mrap_constructs.testing.dataplane.policy_cache import PolicyCache
from mrap_constructs.testing.state import EmulatorState

GLOBAL_SUFFIX = ".accesspoint.s3-global.amazonaws.com"
SERVED_BY_HEADER = "x-mrap-emulator-region"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
               "proxy-connection", "content-length", "host", "expect"}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Routed:
    """One request the gateway served: where it went and what came back."""

    method: str
    key: str
    client_region: str
    region: str
    bucket: str
    status: int


def error_response(code: str, message: str, status: int, resource: str = "") -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message><Resource>{escape(resource)}</Resource>"
            "<RequestId>MRAPEMULATOR</RequestId></Error>").encode()
    return Response(status, [("Content-Type", "application/xml")], body)


def decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """(payload, trailers) of an ``aws-chunked`` body (S3 API Reference, "Signature Calculations for the
    Authorization Header: Transferring Payload in Multiple Chunks" and the trailer variant)."""
    payload, trailers, pos = bytearray(), {}, 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";", 1)[0], 16)
        pos = end + 2
        if size == 0:
            break
        payload += body[pos:pos + size]
        pos += size + 2
    for line in body[pos:].split(b"\r\n"):
        if b":" in line:
            name, value = line.split(b":", 1)
            trailers[name.decode().strip().lower()] = value.decode().strip()
    return bytes(payload), trailers


@dataclass
class DataPlane:
    """The global endpoint of every MRAP in the emulator.

    Args:
        endpoint_url: the emulator's S3 (``LocalAws.endpoint_url``).
        client_region: the Region requests come from when the caller does not say. Default: ``us-east-1``.
        secrets: ``{access_key_id: secret}`` SigV4A signatures are checked against. Default: the emulator's
            ``testing``/``testing``.
        state: the emulator's state (``LocalAws.state``), whose routes the dials come from. Default: none (every
            Region active).

    Example:
        plane = DataPlane(endpoint_url=aws.endpoint_url, client_region="eu-west-1")
        response = plane.handle("GET", f"{alias}.accesspoint.s3-global.amazonaws.com", "/key", headers, b"")
    """

    endpoint_url: str
    client_region: str = "us-east-1"
    secrets: dict[str, str] = field(default_factory=lambda: {"testing": "testing"})
    log: list[Routed] = field(default_factory=list)
    denials: list[access_policy.Decision] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _s3: InProcessS3 | None = None
    #: Parsed policies by their text, MRAPs by alias, buckets by name, callers by access key: each entry checked
    #: against moto's state on every use (``_lookup``), so a change there is seen by the next request.
    _policies: PolicyCache = field(default_factory=PolicyCache)
    _mraps: dict[str, tuple[str, Any, Any]] = field(default_factory=dict)
    _buckets: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    _routes: dict[tuple[str, tuple[tuple[str, int], ...]], str] = field(default_factory=dict)
    _callers: dict[str, access_policy.Caller] = field(default_factory=dict)
    #: SigV4 signing keys of the hop to the bucket, by (secret, day, Region).
    _signing_keys: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    state: EmulatorState | None = None

    def secret_for(self, access_key_id: str) -> str | None:
        """The secret S3 would check a signature with: ``secrets``; else the temporary credentials moto's STS issued
        (the multi-account emulator acts in other accounts through ``sts:AssumeRole``); else an IAM user's
        *active* access key in moto's IAM (``iam.create_access_key``). An inactive or deleted key has none: S3
        answers ``InvalidAccessKeyId`` (IAM User Guide, "Manage access keys for IAM users": an inactive key
        cannot be used to sign requests)."""
        if access_key_id in self.secrets:
            return self.secrets[access_key_id]
        from moto.sts.models import sts_backends

        for account in list(sts_backends.keys()):
            for backend in sts_backends[account].values():
                role = backend.get_assumed_role_from_access_key(access_key_id)
                if role is not None:
                    return role.secret_access_key
        found = access_policy.iam_user_key(access_key_id)
        if found is not None and found[1].status == "Active":
            return found[1].secret_access_key
        return None

    def mrap(self, alias: str) -> tuple[str, str, dict[str, str]] | None:
        """(account, ARN, {region: bucket}) of the MRAP with ``alias``."""
        found = self._mrap_point(alias)
        if found is None:
            return None
        account, point = found
        return account, f"arn:aws:s3::{account}:accesspoint/{alias}", {r["Region"]: r["Bucket"] for r in point.regions}

    def _mrap_point(self, alias: str) -> tuple[str, Any] | None:
        """(account, moto's MRAP object) for ``alias``: the one found last time if its backend still holds that very
        object under its name (an MRAP's Regions and alias never change; a deleted or re-created one is a new
        object; a reset backend holds none), else searched for in every account."""
        from moto.s3control.models import s3control_backends

        cached = self._mraps.get(alias)
        if cached is not None:
            account, backend, point = cached
            if backend.multi_region_access_points.get(account, {}).get(point.name) is point:
                return account, point
            self._mraps.pop(alias, None)
        for account in list(s3control_backends.keys()):
            backend = s3control_backends[account]["aws"]
            for point in list(backend.multi_region_access_points.get(account, {}).values()):
                if point.alias == alias:
                    self._mraps[alias] = (account, backend, point)
                    return account, point
        return None

    def _bucket(self, name: str) -> tuple[Any, Any] | None:
        """(backend, bucket) of bucket ``name`` (``replication.find_bucket``), remembered while its backend holds
        that very bucket (a deleted or re-created bucket is another object; a reset backend holds none)."""
        from mrap_constructs.testing.dataplane.replication import find_bucket

        cached = self._buckets.get(name)
        if cached is not None:
            backend, bucket = cached
            if backend.buckets.get(name) is bucket:
                return cached
            self._buckets.pop(name, None)
        found = find_bucket(name)
        if found is not None:
            self._buckets[name] = found
        return found

    def _caller(self, access_key_id: str) -> access_policy.Caller:
        """``access_policy.caller_for``, remembered per key: who a key belongs to never changes (a deleted or
        deactivated key has no secret, so its request is refused before this is asked)."""
        caller = self._callers.get(access_key_id)
        if caller is None:
            caller = self._callers[access_key_id] = access_policy.caller_for(access_key_id)
        return caller

    def dials(self, arn: str, regions: dict[str, str]) -> dict[str, int]:
        stored = self.state.routes_in_force(arn) if self.state is not None else {}
        return {region: stored.get(region, routing.ACTIVE) for region in regions}

    def handle(self, method: str, host: str, target: str, headers: dict[str, str], body: bytes,
               client_region: str | None = None, client_region_source: str = "") -> Response:
        """Serve one request to ``host`` (``{alias}.accesspoint.s3-global.amazonaws.com``).

        ``client_region`` (else ``self.client_region``) is where the caller runs; ``client_region_source`` names
        where it came from, for the error a Region the distance table lacks gets (an S3 ``InvalidArgument``, not a
        dropped connection). Default: ``MRAP_EMULATOR_CLIENT_REGION``."""
        host = host.split(":", 1)[0].lower()
        path, _, query = target.partition("?")
        if not host.endswith(GLOBAL_SUFFIX):
            return error_response("InvalidRequest", f"{host} is not a Multi-Region Access Point endpoint", 400)
        alias = host.removesuffix(GLOBAL_SUFFIX)
        point = self._mrap_point(alias)
        if point is None:
            return error_response("NoSuchAccessPoint", f"The specified accesspoint does not exist: {alias}", 404)
        mrap_account, mrap_object = point
        arn = f"arn:aws:s3::{mrap_account}:accesspoint/{alias}"
        buckets = {r["Region"]: r["Bucket"] for r in mrap_object.regions}
        key_id = sigv4a.access_key_of(headers, query)
        try:
            secret = self.secret_for(key_id) if key_id else None
            sigv4a.verify(method, path, query, headers, {key_id: secret} if key_id and secret else {})
        except sigv4a.SignatureError as err:
            return error_response(err.code, err.message, err.status, path)
        query = sigv4a.strip_presign(query)
        key = urllib.parse.unquote(path.lstrip("/"))
        try:
            operations.check(method, key, query, headers)
        except operations.Refused as err:
            return error_response(err.code, err.message, err.status, path)
        region_from = client_region or self.client_region
        if region_from not in routing.REGION_COORDINATES:
            source = (client_region_source if client_region else "") or \
                "MRAP_EMULATOR_CLIENT_REGION (the data plane's default client Region)"
            return error_response(
                "InvalidArgument", f"The client Region {region_from!r} set by {source} is not a Region the emulator "
                f"can route from; set it to one of: {', '.join(sorted(routing.REGION_COORDINATES))}", 400, path)
        dials = self.dials(arn, buckets)
        route = (region_from, tuple(sorted(dials.items())))
        region = self._routes.get(route)  # choose_region is a function of these alone
        if region is None:
            try:
                region = routing.choose_region(region_from, dials)
            except routing.NoActiveRegion as err:
                return error_response("ServiceUnavailable", str(err), 503)
            if len(self._routes) > 1024:
                self._routes.clear()
            self._routes[route] = region
        bucket = buckets[region]
        denied = self._authorize(key_id or "", method, key, query, mrap_object, mrap_account, arn, bucket)
        if denied is not None:
            with self._lock:
                self.log.append(Routed(method, key, region_from, region, bucket, 403))
            return error_response("AccessDenied", "Access Denied", 403, path)
        token = sigv4a.security_token_of(headers, target.partition("?")[2])
        response = self._forward(method, bucket, region, path, query, headers, body, key_id or "testing", token,
                                 secret or "testing")
        response.headers.append((SERVED_BY_HEADER, region))
        with self._lock:
            self.log.append(Routed(method, key, region_from, region, bucket, response.status))
        return response

    def _authorize(self, access_key_id: str, method: str, key: str, query: str, mrap_object: Any,
                   mrap_account: str, arn: str, bucket: str) -> access_policy.Decision | None:
        """None if the MRAP policy, the bucket's policy and the caller's identity allow the request
        (``access_policy``), else the denying decision (kept in ``denials``). The policies are read from moto's
        state now (the MRAP's as ``PutMultiRegionAccessPointPolicy`` stored it: ``access_policy.stored_mrap_policy``),
        parsed through ``_policies``."""
        found = self._bucket(bucket)
        decision = access_policy.evaluate(
            caller=self._caller(access_key_id), method=method, key=key, query=query,
            mrap_account=mrap_account, mrap_arn=arn, mrap_policy=mrap_object.policy,
            bucket=bucket, bucket_account=found[0].account_id if found else mrap_account,
            bucket_policy=found[1].policy if found else None, cache=self._policies)
        if decision.allowed:
            return None
        with self._lock:
            self.denials.append(decision)
        return decision

    def _sign_v4(self, method: str, raw_path: str, query: str, headers: dict[str, str], key_id: str, secret: str,
                 token: str | None, region: str, host: str) -> None:
        """Add SigV4 (``AWS4-HMAC-SHA256``) for S3 in ``region`` to ``headers`` (lower-case names, with
        ``x-amz-content-sha256``), signing ``host``, ``x-amz-content-sha256``, ``x-amz-date`` and the session token
        (SigV4 signs the headers the signer lists in ``SignedHeaders``; ``host`` and ``x-amz-date`` must be among
        them: IAM User Guide, "Create a signed AWS API request", https://docs.aws.amazon.com/IAM/latest/UserGuide/
        create-signed-request.html). S3's canonical URI is the path as sent, not encoded again."""
        now = datetime.now(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers["x-amz-date"] = amz_date
        if token:
            headers["x-amz-security-token"] = token
        signing = {**headers, "host": host}
        signed = [name for name in ("host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token")
                  if name in signing]
        canonical = "\n".join([method, raw_path, sigv4a.canonical_query(query),
                               "".join(f"{name}:{' '.join(signing[name].split())}\n" for name in signed),
                               ";".join(signed), signing["x-amz-content-sha256"]])
        scope = f"{day}/{region}/s3/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        key = self._signing_keys.get((secret, day, region))
        if key is None:
            key = ("AWS4" + secret).encode()
            for part in (day, region, "s3", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            if len(self._signing_keys) > 256:
                self._signing_keys.clear()
            self._signing_keys[(secret, day, region)] = key
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={';'.join(signed)}, "
                                    f"Signature={signature}")

    def _forward(self, method: str, bucket: str, region: str, path: str, query: str, headers: dict[str, str],
                 body: bytes, key_id: str, token: str | None, secret: str) -> Response:
        lower = {k.lower(): v for k, v in headers.items()}
        encodings = [e.strip() for e in lower.get("content-encoding", "").split(",") if e.strip()]
        if "aws-chunked" in encodings or lower.get("x-amz-content-sha256", "").startswith("STREAMING-"):
            body, trailers = decode_aws_chunked(body)
            encodings = [e for e in encodings if e != "aws-chunked"]
            lower.update(trailers)
        for name in ("authorization", "x-amz-region-set", "x-amz-decoded-content-length", "x-amz-trailer",
                     "x-amz-date", "x-amz-security-token", "content-encoding", *_HOP_BY_HOP):
            lower.pop(name, None)
        if encodings:
            lower["content-encoding"] = ",".join(encodings)
        lower["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        s3 = self._s3
        if s3 is None or s3.endpoint_url != self.endpoint_url:
            s3 = self._s3 = InProcessS3(self.endpoint_url)
        self._sign_v4(method, f"/{bucket}{path}", query, lower, key_id, secret, token, region, s3.netloc)
        status, headers_out, data = s3.request(method, f"/{bucket}{path}", query, lower, body)
        out = [(k, v) for k, v in headers_out if k.lower() not in _HOP_BY_HOP]
        if method != "HEAD":
            out.append(("Content-Length", str(len(data))))
        else:
            out += [(k, v) for k, v in headers_out if k.lower() == "content-length"]
        return Response(status, out, data if method != "HEAD" else b"")
