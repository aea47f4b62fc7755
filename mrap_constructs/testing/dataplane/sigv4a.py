"""SigV4A (``AWS4-ECDSA-P256-SHA256``) verification of requests to a Multi-Region Access Point.

Every request to an MRAP's global endpoint must be signed with SigV4A (in the ``Authorization`` header, or in the
query of a presigned URL: ``verify_presigned``), whose signature is an ECDSA P-256 signature
valid in a *set* of Regions (``X-Amz-Region-Set``; the SDKs send ``*``). The verifier does what S3 does with the
secret it holds for the access key: it derives the key pair from the credentials, rebuilds the canonical request and
the string to sign, and checks the signature against the public key.

AWS sources:
- "Signing AWS API requests" / "How SigV4a works" (IAM User Guide, ``reference_sigv.html``): the algorithm name,
  the Region set, the credential scope without a Region (``yyyymmdd/service/aws4_request``).
- "Create a signed AWS API request" (IAM User Guide, ``reference_sigv-create-signed-request.html``): canonical
  request and string to sign (shared by SigV4 and SigV4A; S3 does not double-encode or normalize the path).
- The key derivation (NIST SP 800-108 KDF in counter mode, HMAC-SHA256, label ``AWS4-ECDSA-P256-SHA256``, input
  key ``"AWS4A" + secret``, fixed input ``be32(1) || label || 0x00 || access_key_id || counter || be32(256)``,
  the first candidate ``k`` with ``k <= n - 2`` giving the private key ``k + 1``) is the one of AWS's open-source
  signer, ``aws-c-auth`` ``source/key_derivation.c`` and ``aws-samples/sigv4a-signing-examples``.
- S3 error responses (Amazon S3 API Reference, "Error responses"): ``SignatureDoesNotMatch`` (403),
  ``InvalidAccessKeyId`` (403), ``AuthorizationHeaderMalformed`` (400), ``InvalidRequest`` (400) for an
  authorization mechanism the endpoint does not support, ``AccessDenied`` (403) for an anonymous request.

The tests sign with awscrt (the signer botocore uses) and verify here, so a derivation or canonicalization slip is
caught as a failed verification; ``tests/dataplane/test_sigv4a.py`` also tampers with each signed part.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

ALGORITHM = "AWS4-ECDSA-P256-SHA256"
SIGV4_ALGORITHM = "AWS4-HMAC-SHA256"
#: The longest a presigned URL may live: 7 days (S3 API Reference, "Authenticating Requests: Using Query
#: Parameters (AWS Signature Version 4)", ``X-Amz-Expires`` "minimum value 1, maximum 604800 seconds").
MAX_EXPIRES = 604800
#: The order of the P-256 group (SEC 2 / FIPS 186-4).
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_LABEL = ALGORITHM.encode()
_AUTH_RE = re.compile(r"^(?P<alg>\S+)\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<sh>[^,\s]+),\s*"
                      r"Signature=(?P<sig>[0-9a-fA-F]+)\s*$")


class SignatureError(Exception):
    """A request S3 would reject: ``code`` and ``status`` are S3's."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VerifiedRequest:
    """Who signed a request that verified, and for which Regions."""

    access_key_id: str
    region_set: tuple[str, ...]
    signed_headers: tuple[str, ...]
    date: str


@lru_cache(maxsize=64)
def derive_private_number(access_key_id: str, secret_access_key: str) -> int:
    """The SigV4A private key (an integer in ``[1, n-1]``) for a pair of credentials."""
    input_key = b"AWS4A" + secret_access_key.encode()
    for counter in range(1, 255):
        fixed = (b"\x00\x00\x00\x01" + _LABEL + b"\x00" + access_key_id.encode() + bytes([counter])
                 + b"\x00\x00\x01\x00")
        candidate = int.from_bytes(hmac.new(input_key, fixed, hashlib.sha256).digest(), "big")
        if candidate <= _P256_N - 2:
            return candidate + 1
    raise ValueError("no SigV4A key in 254 tries (probability ~2^-8000)")


@lru_cache(maxsize=64)
def public_key(access_key_id: str, secret_access_key: str):  # -> ec.EllipticCurvePublicKey
    """The SigV4A public key of a pair of credentials (a pure function of them: memoized like the private number)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    number = derive_private_number(access_key_id, secret_access_key)
    return ec.derive_private_key(number, ec.SECP256R1()).public_key()


def _uri_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    return "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(pairs))


def canonical_request(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                      signed_headers: list[str], payload_hash: str) -> str:
    """SigV4's canonical request as S3 builds it: the path as sent (S3 does not re-encode or normalize it)."""
    lower = {k.lower(): v for k, v in headers.items()}
    lines = [f"{name}:{' '.join(str(lower.get(name, '')).split())}\n" for name in signed_headers]
    return "\n".join([method.upper(), raw_path or "/", canonical_query(raw_query), "".join(lines),
                      ";".join(signed_headers), payload_hash])


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])


def verify(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
           secrets: Mapping[str, str], *, service: str = "s3", now: datetime | None = None) -> VerifiedRequest:
    """Verify a request to an MRAP endpoint as S3 does, or raise ``SignatureError`` with S3's code.

    Args:
        method, raw_path, raw_query, headers: the request as received (path and query still percent-encoded).
        secrets: ``{access_key_id: secret_access_key}`` the emulated IAM knows.
        service: the signing name. Default: ``s3``.
        now: the time a presigned URL's expiry is checked against. Default: the current UTC time.

    Raises:
        SignatureError: unsigned (``AccessDenied``), SigV4 or another mechanism (``InvalidRequest``), a malformed
            header or scope (``AuthorizationHeaderMalformed``), an unknown key (``InvalidAccessKeyId``), a Region
            set that excludes every Region (``SignatureDoesNotMatch``), or a bad signature
            (``SignatureDoesNotMatch``).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    lower = {k.lower(): v for k, v in headers.items()}
    authorization = lower.get("authorization")
    query = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    if authorization is None:
        if "X-Amz-Algorithm" in query:
            return verify_presigned(method, raw_path, raw_query, headers, secrets, service=service, now=now)
        raise SignatureError("AccessDenied", "Anonymous requests are not supported by Multi-Region Access Points.")
    match = _AUTH_RE.match(authorization.strip())
    algorithm = authorization.split(" ", 1)[0]
    if algorithm != ALGORITHM:
        raise SignatureError("InvalidRequest", "The authorization mechanism you have provided is not supported. "
                             f"Please use {ALGORITHM}.", 400)
    if match is None:
        raise SignatureError("AuthorizationHeaderMalformed", "The authorization header is malformed.", 400)
    credential = match["cred"].split("/")
    if len(credential) != 4 or credential[2] != service or credential[3] != "aws4_request":
        raise SignatureError("AuthorizationHeaderMalformed", f"The authorization header is malformed; the "
                             f"Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/{service}/aws4_request\".",
                             400)
    access_key_id, date = credential[0], credential[1]
    amz_date = lower.get("x-amz-date", "")
    if not amz_date.startswith(date):
        raise SignatureError("AuthorizationHeaderMalformed", f"The authorization header is malformed; Invalid "
                             f"credential date. Date is not the same as X-Amz-Date: {date}.", 400)
    signed_headers = match["sh"].split(";")
    for required in ("host", "x-amz-region-set", "x-amz-date"):
        if required not in signed_headers:
            raise SignatureError("AccessDenied", f"There were headers present in the request which were not signed "
                                 f"or the required header {required} was not signed.")
    region_set = _check_region_set_and_key(lower.get("x-amz-region-set", ""), access_key_id, secrets)
    payload_hash = lower.get("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
    canonical = canonical_request(method, raw_path, raw_query, lower, signed_headers, payload_hash)
    to_sign = string_to_sign(amz_date, f"{date}/{service}/aws4_request", canonical)
    try:
        public_key(access_key_id, secrets[access_key_id]).verify(
            bytes.fromhex(match["sig"]), to_sign.encode(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as err:
        raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                             "signature you provided. Check your key and signing method.") from err
    return VerifiedRequest(access_key_id, region_set, tuple(signed_headers), date)


def _check_signature(access_key_id: str, secret: str, signature_hex: str, to_sign: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        public_key(access_key_id, secret).verify(bytes.fromhex(signature_hex), to_sign.encode(),
                                                 ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError) as err:
        raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                             "signature you provided. Check your key and signing method.") from err


def verify_presigned(method: str, raw_path: str, raw_query: str, headers: Mapping[str, str],
                     secrets: Mapping[str, str], *, service: str = "s3",
                     now: datetime | None = None) -> VerifiedRequest:
    """Verify a presigned (query-string) SigV4A request, as S3 does for a presigned URL to an MRAP.

    AWS: presigned URLs work through Multi-Region Access Points, signed with SigV4A (S3 User Guide,
    "Using Multi-Region Access Points with supported API operations", section "Use a presigned URL with
    Multi-Region Access Points"). The query carries ``X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256``,
    ``X-Amz-Credential`` (``AKID/yyyymmdd/s3/aws4_request``), ``X-Amz-Date``, ``X-Amz-Expires``,
    ``X-Amz-SignedHeaders``, ``X-Amz-Region-Set`` and ``X-Amz-Signature``; the canonical request is SigV4's with
    every query parameter but ``X-Amz-Signature`` and the payload ``UNSIGNED-PAYLOAD`` (S3 API Reference,
    "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)"; awscrt's
    ``AwsSignatureType.HTTP_REQUEST_QUERY_PARAMS``, which botocore's ``S3SigV4AQueryAuth`` uses). An expired URL is
    403 ``AccessDenied`` "Request has expired"; ``X-Amz-Expires`` above 7 days is 400 ``AuthorizationQueryParameters
    Error``.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    query = dict(pairs)
    algorithm = query.get("X-Amz-Algorithm", "")
    if algorithm != ALGORITHM:
        raise SignatureError("InvalidRequest", "The authorization mechanism you have provided is not supported. "
                             f"Please use {ALGORITHM}.", 400)
    missing = [name for name in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                                 "X-Amz-Signature") if not query.get(name)]
    if missing:
        raise SignatureError("AuthorizationQueryParametersError", f"Query-string authentication requires the "
                             f"{', '.join(missing)} parameters.", 400)
    credential = query["X-Amz-Credential"].split("/")
    if len(credential) != 4 or credential[2] != service or credential[3] != "aws4_request":
        raise SignatureError("AuthorizationQueryParametersError", "Error parsing the X-Amz-Credential parameter; "
                             f"expecting \"<YOUR-AKID>/YYYYMMDD/{service}/aws4_request\".", 400)
    access_key_id, date = credential[0], credential[1]
    amz_date = query["X-Amz-Date"]
    if not amz_date.startswith(date):
        raise SignatureError("AuthorizationQueryParametersError", "Invalid credential date. Date is not the same "
                             "as X-Amz-Date.", 400)
    try:
        expires = int(query["X-Amz-Expires"])
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as err:
        raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed.",
                             400) from err
    if not 1 <= expires <= MAX_EXPIRES:
        raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in "
                             "seconds) that is 604800", 400)
    if (now or datetime.now(UTC)) > signed_at + timedelta(seconds=expires):
        raise SignatureError("AccessDenied", "Request has expired")
    signed_headers = query["X-Amz-SignedHeaders"].split(";")
    if "host" not in signed_headers:
        raise SignatureError("AccessDenied", "There were headers present in the request which were not signed "
                             "or the required header host was not signed.")
    region_set = _check_region_set_and_key(query.get("X-Amz-Region-Set", lower.get("x-amz-region-set", "")),
                                           access_key_id, secrets)
    unsigned_query = "&".join(part for part in raw_query.split("&") if not part.startswith("X-Amz-Signature="))
    canonical = canonical_request(method, raw_path, unsigned_query, lower, signed_headers, "UNSIGNED-PAYLOAD")
    to_sign = string_to_sign(amz_date, f"{date}/{service}/aws4_request", canonical)
    _check_signature(access_key_id, secrets[access_key_id], query["X-Amz-Signature"], to_sign)
    return VerifiedRequest(access_key_id, region_set, tuple(signed_headers), date)


#: The query parameters of a presigned URL (S3 passes the rest of the query to the operation).
PRESIGN_PARAMETERS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                                "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Region-Set",
                                "X-Amz-Security-Token"})


def access_key_of(headers: Mapping[str, str], raw_query: str) -> str | None:
    """The access key id a request is signed with: from ``Authorization``, else from ``X-Amz-Credential``."""
    lower = {k.lower(): v for k, v in headers.items()}
    found = re.search(r"Credential=([^/,\s]+)/", lower.get("authorization") or "")
    if found:
        return found.group(1)
    credential = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True)).get("X-Amz-Credential", "")
    return credential.split("/", 1)[0] or None


def security_token_of(headers: Mapping[str, str], raw_query: str) -> str | None:
    """The session token of a request: ``x-amz-security-token``, else ``X-Amz-Security-Token`` in the query."""
    token = next((v for k, v in headers.items() if k.lower() == "x-amz-security-token"), None)
    return token or dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True)).get("X-Amz-Security-Token")


def strip_presign(raw_query: str) -> str:
    """``raw_query`` without the presigned-URL parameters (what the operation itself sees)."""
    return "&".join(part for part in raw_query.split("&")
                    if part and urllib.parse.unquote(part.split("=", 1)[0]) not in PRESIGN_PARAMETERS)


def _check_region_set_and_key(region_set_value: str, access_key_id: str,
                              secrets: Mapping[str, str]) -> tuple[str, ...]:
    """The signed Region set, checked: an MRAP request is signed for ``*``, with a key the emulator knows (header or
    presigned form)."""
    region_set = tuple(r.strip() for r in region_set_value.split(","))
    if "*" not in region_set:
        raise SignatureError("SignatureDoesNotMatch", f"The Region set {','.join(region_set)} does not include "
                             "every Region of a Multi-Region Access Point; sign with region set '*'.")
    if access_key_id not in secrets:
        raise SignatureError("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our "
                             "records.")
    return region_set
