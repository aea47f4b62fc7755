"""SigV4A verification against requests signed by awscrt (botocore's signer)."""

from __future__ import annotations

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
