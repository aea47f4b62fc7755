"""The MRAP global endpoint: verify SigV4A, pick the bucket by the dials, hand the request to that bucket.

AWS: a request to ``{alias}.accesspoint.s3-global.amazonaws.com`` is an S3 request for the bucket the MRAP routes
it to (S3 User Guide, "Making requests through a Multi-Region Access Point"): same path, query and headers, signed
with SigV4A in the headers or a presigned URL (``sigv4a``), one of the operations MRAPs serve (``operations``; the
others are refused before any bucket sees them), routed to the nearest active Region (``routing``); what that
bucket answers is the answer.

The gateway forwards to the emulator's S3 (moto server on 127.0.0.1) path-style, re-signed with SigV4 for the
bucket's Region under the caller's own access key (so moto sees the same account), after decoding the SDK's
``aws-chunked`` body (botocore streams PutObject with ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` and a CRC32 trailer;
the trailer checksum is passed on as a header). Chunk signatures of ``STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD``
bodies are not verified (the seed signature over the headers is).

Emulator-only response header: ``x-mrap-emulator-region`` names the Region that served the request (S3 does not
say; tests and ``mrap smoke`` use it to see a failover).
"""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from mrap_constructs.testing.dataplane import access_policy, operations, routing, sigv4a
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
    _pool: Any = None
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
        from moto.s3control.models import s3control_backends

        for account in list(s3control_backends.keys()):
            for point in s3control_backends[account]["aws"].multi_region_access_points.get(account, {}).values():
                if point.alias == alias:
                    return account, f"arn:aws:s3::{account}:accesspoint/{alias}", {
                        r["Region"]: r["Bucket"] for r in point.regions}
        return None

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
        found = self.mrap(alias)
        if found is None:
            return error_response("NoSuchAccessPoint", f"The specified accesspoint does not exist: {alias}", 404)
        mrap_account, arn, buckets = found
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
        try:
            region = routing.choose_region(region_from, self.dials(arn, buckets))
        except routing.NoActiveRegion as err:
            return error_response("ServiceUnavailable", str(err), 503)
        bucket = buckets[region]
        denied = self._authorize(key_id or "", method, key, query, alias, mrap_account, arn, bucket)
        if denied is not None:
            with self._lock:
                self.log.append(Routed(method, key, region_from, region, bucket, 403))
            return error_response("AccessDenied", "Access Denied", 403, path)
        token = sigv4a.security_token_of(headers, target.partition("?")[2])
        response = self._forward(method, bucket, region, path, query, headers, body, key_id or "testing", token)
        response.headers.append((SERVED_BY_HEADER, region))
        with self._lock:
            self.log.append(Routed(method, key, region_from, region, bucket, response.status))
        return response

    def _authorize(self, access_key_id: str, method: str, key: str, query: str, alias: str, mrap_account: str,
                   arn: str, bucket: str) -> access_policy.Decision | None:
        """None if the MRAP policy, the bucket's policy and the caller's identity allow the request
        (``access_policy``), else the denying decision (kept in ``denials``)."""
        from mrap_constructs.testing.dataplane.replication import find_bucket

        found = find_bucket(bucket)
        decision = access_policy.evaluate(
            caller=access_policy.caller_for(access_key_id), method=method, key=key, query=query,
            mrap_account=mrap_account, mrap_arn=arn, mrap_policy=access_policy.stored_mrap_policy(mrap_account, alias),
            bucket=bucket, bucket_account=found[0].account_id if found else mrap_account,
            bucket_policy=found[1].policy if found else None)
        if decision.allowed:
            return None
        with self._lock:
            self.denials.append(decision)
        return decision

    def _forward(self, method: str, bucket: str, region: str, path: str, query: str, headers: dict[str, str],
                 body: bytes, key_id: str, token: str | None) -> Response:
        import urllib3
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

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
        url = f"{self.endpoint_url}/{bucket}{path}" + (f"?{query}" if query else "")
        request = AWSRequest(method=method, url=url, data=body, headers=lower)
        S3SigV4Auth(Credentials(key_id, self.secret_for(key_id) or "testing", token), "s3", region).add_auth(request)
        if self._pool is None:
            self._pool = urllib3.PoolManager(maxsize=8)
        upstream = self._pool.request(method, url, body=body or None, headers=dict(request.headers.items()),
                                      redirect=False, retries=False, preload_content=True)
        out = [(k, v) for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP]
        if method != "HEAD":
            out.append(("Content-Length", str(len(upstream.data))))
        elif "content-length" in upstream.headers:
            out.append(("Content-Length", upstream.headers["content-length"]))
        return Response(upstream.status, out, upstream.data if method != "HEAD" else b"")
