"""End to end through the proxy: the MRAP answers what S3 answers (issue #25, "zero green here, red on AWS").

Each test cites the AWS source of the behaviour it holds the emulator to.
"""

from __future__ import annotations

import os
import socket
import ssl

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e

TWO = ["us-east-1", "eu-west-1"]
KEY = os.urandom(32)


def error_of(err: pytest.ExceptionInfo) -> tuple[str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def client_with(mrap, access_key_id: str, secret: str):
    """An S3 client through the proxy signing with other credentials."""
    env = mrap.dataplane.environment()
    return boto3.client("s3", region_name=env["AWS_REGION"], aws_access_key_id=access_key_id,
                        aws_secret_access_key=secret, verify=env["AWS_CA_BUNDLE"],
                        config=Config(proxies={"https": env["HTTPS_PROXY"]}, retries={"max_attempts": 1}))


# -- operations (S3 User Guide "Using Multi-Region Access Points with supported API operations",
#    https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html) ---------------------------------------

@pytest.mark.mrap(regions=TWO)
@pytest.mark.parametrize("call", ["list_objects", "list_object_versions", "delete_objects", "get_object_attributes",
                                  "head_bucket", "get_bucket_versioning"])
def test_an_operation_s3_does_not_serve_through_an_mrap_is_refused(mrap, call):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    mrap.dataplane.plane.log.clear()
    kwargs = {"list_objects": {}, "list_object_versions": {}, "head_bucket": {}, "get_bucket_versioning": {},
              "delete_objects": {"Delete": {"Objects": [{"Key": "k"}]}},
              "get_object_attributes": {"Key": "k", "ObjectAttributes": ["ETag"]}}[call]
    with pytest.raises(ClientError) as err:
        getattr(mrap.s3, call)(Bucket=mrap.arn, **kwargs)
    assert error_of(err)[1] == 405
    if call != "head_bucket":  # a HEAD answer has no body, so no code
        assert error_of(err)[0] == "MethodNotAllowed"
    assert mrap.dataplane.plane.log == [], "the request never reached a bucket"
    assert mrap.s3.head_object(Bucket=mrap.arn, Key="k")["ContentLength"] == 1, "DeleteObjects deleted nothing"


@pytest.mark.mrap(regions=TWO)
def test_list_objects_v2_is_served(mrap):
    mrap.s3.put_object(Bucket=mrap.arn, Key="a/1", Body=b"x")
    assert [o["Key"] for o in mrap.s3.list_objects_v2(Bucket=mrap.arn)["Contents"]] == ["a/1"]


# -- CopyObject: "Amazon S3 supports copy operations using Multi-Region Access Points only as a destination"
#    (S3 API Reference CopyObject, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) ---------------

@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_copy_into_the_mrap_works_copy_out_of_it_is_not_implemented(mrap):
    source = mrap.buckets["us-east-1"]
    mrap.bucket_client("us-east-1").put_object(Bucket=source, Key="src", Body=b"data")
    mrap.s3.copy_object(Bucket=mrap.arn, Key="dst", CopySource={"Bucket": source, "Key": "src"})
    assert mrap.s3.get_object(Bucket=mrap.arn, Key="dst")["Body"].read() == b"data"
    with pytest.raises(ClientError) as err:
        mrap.s3.copy_object(Bucket=mrap.arn, Key="again", CopySource={"Bucket": mrap.arn, "Key": "dst"})
    assert error_of(err) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as err:  # a bucket destination, the MRAP as source: same answer, not NoSuchBucket
        mrap.bucket_client("us-east-1").copy_object(Bucket=source, Key="again",
                                                    CopySource={"Bucket": mrap.arn, "Key": "dst"})
    assert error_of(err) == ("NotImplemented", 501)


# -- routes (S3 Control API Reference SubmitMultiRegionAccessPointRoutes; botocore s3control model: "At least one
#    Region must be active at all times", "If all Regions ... are designated as passive, you'll receive an
#    InvalidRequest error", "It can take up to 2 minutes for your changes to take effect") --------------------------

@pytest.mark.mrap(regions=TWO)
def test_a_routes_update_leaving_every_region_passive_is_invalid_request(mrap):
    control = mrap.dataplane.aws.client("s3control", "us-west-2")
    account = mrap.dataplane.aws.account
    with pytest.raises(ClientError) as err:
        control.submit_multi_region_access_point_routes(AccountId=account, Mrap=mrap.arn, RouteUpdates=[
            {"Region": region, "TrafficDialPercentage": 0} for region in mrap.buckets])
    assert error_of(err)[0] == "InvalidRequest"
    mrap.fail_over(to="eu-west-1")
    with pytest.raises(ClientError):  # the last active Region cannot be made passive either
        control.submit_multi_region_access_point_routes(AccountId=account, Mrap=mrap.arn, RouteUpdates=[
            {"Region": "eu-west-1", "TrafficDialPercentage": 0}])
    routes = control.get_multi_region_access_point_routes(AccountId=account, Mrap=mrap.arn)["Routes"]
    assert {r["Region"]: r["TrafficDialPercentage"] for r in routes} == {"us-east-1": 0, "eu-west-1": 100}


@pytest.mark.mrap(regions=TWO, client_region="us-east-1", routes_delay=120)
def test_a_routes_update_reaches_the_data_plane_after_the_propagation_delay(mrap, monkeypatch):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    mrap.wait_replicated("k")
    mrap.fail_over(to="eu-west-1")
    assert mrap.served_by(mrap.s3.head_object(Bucket=mrap.arn, Key="k")) == "us-east-1", "not yet in force"
    state = mrap.dataplane.aws.state
    later = state.clock() + 120
    monkeypatch.setattr(state, "clock", lambda: later)
    assert mrap.served_by(mrap.s3.head_object(Bucket=mrap.arn, Key="k")) == "eu-west-1"


# -- replication: storage classes and SSE-C (S3 User Guide "What does Amazon S3 replicate?",
#    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html;
#    "Replicating encrypted objects (SSE-S3, SSE-KMS, DSSE-KMS, SSE-C)") -----------------------------------------------

@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_glacier_and_deep_archive_objects_are_not_replicated(mrap):
    for storage_class in ("GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"):
        mrap.s3.put_object(Bucket=mrap.arn, Key=storage_class, Body=b"x", StorageClass=storage_class)
    mrap.wait_replicated("GLACIER_IR")
    assert mrap.dataplane.wait_idle(10)
    other = mrap.bucket_client("eu-west-1")
    keys = {o["Key"] for o in other.list_objects_v2(Bucket=mrap.buckets["eu-west-1"]).get("Contents", [])}
    assert keys == {"GLACIER_IR"}


@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_an_sse_c_object_needs_its_key_through_the_mrap_and_replicates(mrap):
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    version = mrap.s3.put_object(Bucket=mrap.arn, Key="secret", Body=b"s3cr3t", **sse)["VersionId"]
    with pytest.raises(ClientError) as err:
        mrap.s3.get_object(Bucket=mrap.arn, Key="secret")
    assert error_of(err) == ("InvalidRequest", 400)
    assert mrap.s3.get_object(Bucket=mrap.arn, Key="secret", **sse)["Body"].read() == b"s3cr3t"
    assert mrap.wait_replicated("secret") == version
    replica = mrap.bucket_client("eu-west-1")
    with pytest.raises(ClientError) as err:
        replica.get_object(Bucket=mrap.buckets["eu-west-1"], Key="secret")
    assert error_of(err) == ("InvalidRequest", 400)
    assert replica.get_object(Bucket=mrap.buckets["eu-west-1"], Key="secret", **sse)["Body"].read() == b"s3cr3t"


# -- presigned URLs (MrapOperations.html, "Use a presigned URL with Multi-Region Access Points") ----------------------

@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_a_presigned_sigv4a_url_works_through_the_mrap(mrap):
    import urllib3

    put_url = mrap.s3.generate_presigned_url("put_object", Params={"Bucket": mrap.arn, "Key": "shared.txt"})
    assert "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256" in put_url and "X-Amz-Region-Set" in put_url
    http = urllib3.ProxyManager(mrap.dataplane.proxy.proxy_url(), ca_certs=mrap.env["AWS_CA_BUNDLE"])
    put = http.request("PUT", put_url, body=b"shared")
    assert put.status == 200, put.data
    get_url = mrap.s3.generate_presigned_url("get_object", Params={"Bucket": mrap.arn, "Key": "shared.txt"})
    got = http.request("GET", get_url)
    assert (got.status, got.data) == (200, b"shared")
    assert got.headers["x-mrap-emulator-region"] == "us-east-1"
    tampered = http.request("GET", get_url.replace("shared.txt", "other.txt"))
    assert tampered.status == 403 and b"SignatureDoesNotMatch" in tampered.data


# -- IAM users' access keys (IAM User Guide "Manage access keys for IAM users": an inactive key cannot be used) -------

@pytest.mark.mrap(regions=TWO)
def test_an_iam_user_s_access_key_works_until_it_is_deactivated_or_deleted(mrap):
    iam = mrap.dataplane.aws.client("iam")
    iam.create_user(UserName="app")
    iam.put_user_policy(UserName="app", PolicyName="s3", PolicyDocument='{"Version": "2012-10-17", "Statement": '
                        '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}')
    key = iam.create_access_key(UserName="app")["AccessKey"]
    s3 = client_with(mrap, key["AccessKeyId"], key["SecretAccessKey"])
    s3.put_object(Bucket=mrap.arn, Key="by-user", Body=b"x")
    assert s3.get_object(Bucket=mrap.arn, Key="by-user")["Body"].read() == b"x"
    iam.update_access_key(UserName="app", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=mrap.arn, Key="by-user")
    assert error_of(err) == ("InvalidAccessKeyId", 403)
    iam.update_access_key(UserName="app", AccessKeyId=key["AccessKeyId"], Status="Active")
    assert s3.get_object(Bucket=mrap.arn, Key="by-user")["Body"].read() == b"x"
    iam.delete_access_key(UserName="app", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=mrap.arn, Key="by-user")
    assert error_of(err) == ("InvalidAccessKeyId", 403)


@pytest.mark.mrap(regions=TWO)
def test_an_iam_user_without_a_policy_is_denied(mrap):
    """Same account, no MRAP policy, no identity policy: nothing allows the request (IAM "Policy evaluation
    logic")."""
    iam = mrap.dataplane.aws.client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    with pytest.raises(ClientError) as err:
        client_with(mrap, key["AccessKeyId"], key["SecretAccessKey"]).put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    assert error_of(err) == ("AccessDenied", 403)


# -- multipart upload across a failover (S3 User Guide "Multi-Region Access Point request routing": S3 processes the
#    request "as if you made it directly to that bucket"; CompleteMultipartUpload errors: NoSuchUpload) --------------

@pytest.mark.mrap(regions=TWO, client_region="us-east-1")
def test_a_multipart_upload_completed_after_a_failover_is_no_such_upload(mrap):
    upload = mrap.s3.create_multipart_upload(Bucket=mrap.arn, Key="big")["UploadId"]
    etag = mrap.s3.upload_part(Bucket=mrap.arn, Key="big", UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    parts = {"Parts": [{"ETag": etag, "PartNumber": 1}]}
    mrap.fail_over(to="eu-west-1")
    with pytest.raises(ClientError) as err:
        mrap.s3.complete_multipart_upload(Bucket=mrap.arn, Key="big", UploadId=upload, MultipartUpload=parts)
    assert error_of(err) == ("NoSuchUpload", 404)
    # the upload still lives in the bucket it was created in, and completes there
    home = mrap.bucket_client("us-east-1")
    uploads = home.list_multipart_uploads(Bucket=mrap.buckets["us-east-1"])["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload]
    home.complete_multipart_upload(Bucket=mrap.buckets["us-east-1"], Key="big", UploadId=upload, MultipartUpload=parts)
    assert mrap.wait_replicated("big")


# -- TLS ("TLS 1.3 is supported in all S3 endpoints, except for AWS PrivateLink for Amazon S3 and Multi-Region Access
#    Points", S3 User Guide "Protecting data in transit with encryption",
#    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingEncryptionInTransit.html) ------------------------------

def _tunnel(mrap, context: ssl.SSLContext) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", mrap.dataplane.proxy.port), timeout=10)
    sock.sendall(f"CONNECT {mrap.point.hostname}:443 HTTP/1.1\r\nHost: {mrap.point.hostname}:443\r\n\r\n".encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    return context.wrap_socket(sock, server_hostname=mrap.point.hostname)


@pytest.mark.mrap(regions=TWO)
def test_the_mrap_endpoint_negotiates_tls_1_2_and_refuses_1_3_only_clients(mrap):
    context = ssl.create_default_context(cafile=mrap.env["AWS_CA_BUNDLE"])
    with _tunnel(mrap, context) as tls:
        assert tls.version() == "TLSv1.2"
    only_13 = ssl.create_default_context(cafile=mrap.env["AWS_CA_BUNDLE"])
    only_13.minimum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError):
        _tunnel(mrap, only_13).close()
