"""SigV4A verification against requests signed by awscrt (botocore's signer)."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest

pytest.importorskip("awscrt")

from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.crt.auth import CrtS3SigV4AsymAuth  # noqa: E402

from mrap_constructs.testing.dataplane import sigv4a  # noqa: E402

HOST = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com"  # an alias in AWS's shape
SECRETS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}


def signed(method: str = "PUT", url: str = f"https://{HOST}/photos/cat%20one.jpg?tagging=&x-id=PutObject",
           body: bytes = b"meow", auth=CrtS3SigV4AsymAuth, region: str = "*", key: str = "AKIDEXAMPLE") -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "image/jpeg"})
    auth(Credentials(key, SECRETS.get(key, "other-secret")), "s3", region).add_auth(request)
    return request


def check(request: AWSRequest, secrets=SECRETS) -> sigv4a.VerifiedRequest:
    parts = urllib.parse.urlsplit(request.url)
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
    return sigv4a.verify(request.method, parts.path, parts.query, headers, secrets)


def test_verifies_a_request_signed_by_awscrt():
    verified = check(signed())
    assert verified.access_key_id == "AKIDEXAMPLE"
    assert verified.region_set == ("*",)
    assert "x-amz-region-set" in verified.signed_headers


def test_verifies_get_with_query():
    check(signed("GET", f"https://{HOST}/a/b?versionId=3%2Fx&partNumber=1", b""))


@pytest.mark.parametrize("part", ["header", "path", "query", "method"])
def test_fails_when_a_signed_part_changes(part):
    request = signed()
    if part == "header":
        request.headers.replace_header("Content-Type", "text/plain")
    elif part == "path":
        request.url = request.url.replace("cat%20one", "dog")
    elif part == "query":
        request.url = request.url.replace("x-id=PutObject", "x-id=GetObject")
    else:
        request.method = "POST"
    with pytest.raises(sigv4a.SignatureError, match="does not match") as err:
        check(request)
    assert err.value.code == "SignatureDoesNotMatch"


def test_fails_with_another_secret():
    with pytest.raises(sigv4a.SignatureError) as err:
        check(signed(), {"AKIDEXAMPLE": "not-the-secret"})
    assert (err.value.code, err.value.status) == ("SignatureDoesNotMatch", 403)


def test_fails_sigv4_with_invalid_request():
    with pytest.raises(sigv4a.SignatureError, match=sigv4a.ALGORITHM) as err:
        check(signed(auth=S3SigV4Auth, region="us-east-1"))
    assert (err.value.code, err.value.status) == ("InvalidRequest", 400)


def test_fails_unsigned_with_access_denied():
    request = AWSRequest(method="GET", url=f"https://{HOST}/k", data=b"")
    with pytest.raises(sigv4a.SignatureError) as err:
        check(request)
    assert (err.value.code, err.value.status) == ("AccessDenied", 403)


def test_fails_a_region_set_without_star():
    with pytest.raises(sigv4a.SignatureError, match="Region set") as err:
        check(signed(region="us-east-1"))
    assert err.value.code == "SignatureDoesNotMatch"


def test_fails_an_unknown_access_key():
    with pytest.raises(sigv4a.SignatureError) as err:
        check(signed(key="AKIDUNKNOWN"))
    assert err.value.code == "InvalidAccessKeyId"


def test_key_derivation_is_deterministic_and_per_key():
    a = sigv4a.derive_private_number("AKIDEXAMPLE", "secret")
    assert a == sigv4a.derive_private_number("AKIDEXAMPLE", "secret")
    assert a != sigv4a.derive_private_number("AKIDEXAMPLF", "secret")
    assert 1 <= a < sigv4a._P256_N


# -- presigned (query-string) SigV4A -------------------------------------------------------------------------------
# AWS: presigned URLs work through an MRAP, signed with SigV4A (S3 User Guide, "Using Multi-Region Access Points with
# supported API operations", https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html, "Use a
# presigned URL with Multi-Region Access Points"); query authentication: S3 API Reference, "Authenticating Requests:
# Using Query Parameters (AWS Signature Version 4)", https://docs.aws.amazon.com/AmazonS3/latest/API/
# sigv4-query-string-auth.html (X-Amz-Expires at most 604800 seconds).

def presigned(url: str = f"https://{HOST}/photos/cat%20one.jpg", expires: int = 3600, key: str = "AKIDEXAMPLE"):
    """A URL presigned as botocore presigns an MRAP URL (``S3SigV4AQueryAuth``, awscrt), and its signing time."""
    from botocore.crt.auth import CrtS3SigV4AsymQueryAuth

    request = AWSRequest(method="GET", url=url, headers={})
    CrtS3SigV4AsymQueryAuth(Credentials(key, SECRETS.get(key, "other-secret")), "s3", "*",
                            expires=expires).add_auth(request)
    parts = urllib.parse.urlsplit(request.url)
    return parts, datetime.datetime.strptime(dict(urllib.parse.parse_qsl(parts.query))["X-Amz-Date"],
                                             "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)


def test_verifies_a_url_presigned_by_awscrt():
    parts, signed_at = presigned()
    assert "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256" in parts.query
    verified = sigv4a.verify("GET", parts.path, parts.query, {"host": HOST}, SECRETS, now=signed_at)
    assert (verified.access_key_id, verified.region_set) == ("AKIDEXAMPLE", ("*",))


def test_a_presigned_url_is_refused_after_it_expires():
    parts, signed_at = presigned(expires=60)
    sigv4a.verify("GET", parts.path, parts.query, {"host": HOST}, SECRETS,
                  now=signed_at + datetime.timedelta(seconds=60))
    with pytest.raises(sigv4a.SignatureError, match="Request has expired") as err:
        sigv4a.verify("GET", parts.path, parts.query, {"host": HOST}, SECRETS,
                      now=signed_at + datetime.timedelta(seconds=61))
    assert (err.value.code, err.value.status) == ("AccessDenied", 403)


@pytest.mark.parametrize("change", ["path", "expires", "method"])
def test_a_changed_presigned_url_does_not_verify(change):
    parts, signed_at = presigned()
    path, query, method = parts.path, parts.query, "GET"
    if change == "path":
        path = path.replace("cat%20one", "dog")
    elif change == "expires":
        query = query.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200")
    else:
        method = "PUT"
    with pytest.raises(sigv4a.SignatureError) as err:
        sigv4a.verify(method, path, query, {"host": HOST}, SECRETS, now=signed_at)
    assert err.value.code == "SignatureDoesNotMatch"


def test_a_presigned_url_of_an_unknown_key_or_over_a_week_is_refused():
    parts, signed_at = presigned(key="AKIDUNKNOWN")
    with pytest.raises(sigv4a.SignatureError) as err:
        sigv4a.verify("GET", parts.path, parts.query, {"host": HOST}, SECRETS, now=signed_at)
    assert err.value.code == "InvalidAccessKeyId"
    parts, signed_at = presigned(expires=604801)
    with pytest.raises(sigv4a.SignatureError) as err:
        sigv4a.verify("GET", parts.path, parts.query, {"host": HOST}, SECRETS, now=signed_at)
    assert (err.value.code, err.value.status) == ("AuthorizationQueryParametersError", 400)


def test_presign_parameters_are_not_passed_to_the_operation():
    parts, _ = presigned(f"https://{HOST}/k?versionId=v1")
    assert sigv4a.strip_presign(parts.query) == "versionId=v1"
    assert sigv4a.access_key_of({}, parts.query) == "AKIDEXAMPLE"
