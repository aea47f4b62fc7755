"""The gateway's SigV4 for the hop to the routed bucket is botocore's, byte for byte (``DataPlane._sign_v4``).

AWS: IAM User Guide, "Create a signed AWS API request" (https://docs.aws.amazon.com/IAM/latest/UserGuide/
create-signed-request.html): canonical request, string to sign, signing key ``AWS4`` + secret through date, Region,
service and ``aws4_request``; S3 does not encode the path again (S3 API Reference, "Signature Calculations for the
Authorization Header").
"""

from __future__ import annotations

import hashlib

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mrap_constructs.testing.dataplane.gateway import DataPlane

HOST = "127.0.0.1:5000"


@pytest.mark.parametrize(("path", "query", "token"), [
    ("/bucket/a%20b/c", "", None),
    ("/bucket/k", "tagging&versionId=abc%2B1", "SESSION-TOKEN"),
    ("/bucket", "list-type=2&prefix=a%2Fb&max-keys=5", None),
])
def test_signature_is_botocore_s(path, query, token):
    body = b"hello"
    headers = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    DataPlane(endpoint_url=f"http://{HOST}")._sign_v4("PUT", path, query, headers, "AKID", "SECRET", token,
                                                       "eu-west-1", HOST)
    request = AWSRequest(method="PUT", url=f"http://{HOST}{path}" + (f"?{query}" if query else ""), data=body,
                         headers={"x-amz-content-sha256": headers["x-amz-content-sha256"],
                                  "X-Amz-Date": headers["x-amz-date"],
                                  **({"X-Amz-Security-Token": token} if token else {})})
    request.context["timestamp"] = headers["x-amz-date"]
    auth = S3SigV4Auth(Credentials("AKID", "SECRET", token), "s3", "eu-west-1")
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    assert headers["authorization"] == (f"AWS4-HMAC-SHA256 Credential=AKID/{headers['x-amz-date'][:8]}/eu-west-1/s3/"
                                        f"aws4_request, SignedHeaders={signed}, Signature={expected}")
    assert headers.get("x-amz-security-token") == token


def test_an_error_in_moto_is_a_500_as_moto_s_server_answers_it():
    from mrap_constructs.testing.dataplane.in_process import InProcessS3

    def failing(environ, start_response):
        raise RuntimeError("boom")

    s3 = InProcessS3("http://127.0.0.1:5000")
    s3._app = failing
    status, headers, body = s3.request("GET", "/bucket/key", "", {}, b"")
    assert (status, dict(headers)["Content-Type"]) == (500, "text/html; charset=utf-8")
    assert b"Internal Server Error" in body
