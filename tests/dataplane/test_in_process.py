"""The hop to the routed bucket, in-process (``in_process.InProcessS3``): what moto's server would have answered
for the same request bytes, through the MRAP.

AWS: an object's key and user metadata are stored as sent (S3 User Guide, "Naming Amazon S3 objects": any UTF-8
key, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html; "Working with object metadata":
user-defined metadata names keep their spelling, https://docs.aws.amazon.com/AmazonS3/latest/userguide/
UsingMetadata.html), and HEAD answers the object's Content-Length without a body (S3 API Reference, HeadObject).
"""

from __future__ import annotations

import pytest

from mrap_constructs.testing.dataplane.in_process import InProcessS3

pytestmark = pytest.mark.e2e

KEYS = ["plain", "dir/sub/file.txt", "with space and+plus", "percent%2Fslash", "ünïcødé/ключ", "a?b=c&d", "~tilde*"]


@pytest.mark.mrap(regions=["us-east-1", "eu-west-1"], client_region="us-east-1")
@pytest.mark.parametrize("key", KEYS)
def test_keys_round_trip_through_the_in_process_hop(mrap, key):
    version = mrap.s3.put_object(Bucket=mrap.arn, Key=key, Body=key.encode())["VersionId"]
    got = mrap.s3.get_object(Bucket=mrap.arn, Key=key)
    assert (got["Body"].read(), got["VersionId"]) == (key.encode(), version)
    direct = mrap.bucket_client("us-east-1").list_objects_v2(Bucket=mrap.buckets["us-east-1"], Prefix=key)
    assert [o["Key"] for o in direct.get("Contents", [])] == [key]


@pytest.mark.mrap(regions=["us-east-1", "eu-west-1"], client_region="us-east-1")
def test_metadata_names_keep_their_spelling_and_head_has_the_length(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="m", Body=b"12345", ContentType="text/plain",
                       Metadata={"my_key": "under", "Team": "x"})
    head = mrap.s3.head_object(Bucket=mrap.arn, Key="m")
    assert head["Metadata"] == {"my_key": "under", "team": "x"}
    assert (head["ContentLength"], head["ContentType"]) == (5, "text/plain")
    assert mrap.served_by(head) == "us-east-1"


def test_environ_is_what_moto_s_server_builds():
    environ = InProcessS3("http://127.0.0.1:5000").environ(
        "PUT", "/bucket/a%2Fb%20c", "tagging", {"x-amz-meta-my_key": "1", "X-Amz-Meta-Other": "2",
                                                 "Content-Type": "text/plain", "Authorization": "AWS4"}, b"body")
    assert (environ["PATH_INFO"], environ["RAW_URI"], environ["QUERY_STRING"]) == (
        "/bucket/a/b c", "/bucket/a%2Fb%20c?tagging", "tagging")
    assert (environ["HTTP_HOST"], environ["CONTENT_LENGTH"], environ["CONTENT_TYPE"]) == ("127.0.0.1:5000", "4",
                                                                                      "text/plain")
    assert environ["HTTP_X_AMZ_META_MY_KEY"] == "1" and environ["HTTP_X_AMZ_META_OTHER"] == "2"
    assert environ["moto.preserved_header_names"] == {"HTTP_X_AMZ_META_MY_KEY": "x-amz-meta-my_key"}
    assert environ["wsgi.input"].read() == b"body"


@pytest.mark.mrap(regions=["us-east-1", "eu-west-1"], client_region="us-east-1")
def test_a_client_connection_is_kept_alive_for_every_request(mrap):
    """One CONNECT and one TLS handshake serve all of a client's sequential requests (HTTP/1.1 keep-alive inside
    the tunnel): no new connection per request, unlike moto's server (``Connection: close``)."""
    mrap.s3.put_object(Bucket=mrap.arn, Key="first", Body=b"x")
    opened = mrap.dataplane.proxy.tunnels
    for i in range(5):
        mrap.s3.put_object(Bucket=mrap.arn, Key=f"k{i}", Body=b"x")
        mrap.s3.get_object(Bucket=mrap.arn, Key=f"k{i}")["Body"].read()
    mrap.s3.head_object(Bucket=mrap.arn, Key="k0")
    assert mrap.dataplane.proxy.tunnels == opened
