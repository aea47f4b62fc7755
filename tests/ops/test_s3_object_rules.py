"""``s3_object_rules``: SSE-C, unknown multipart upload ids and MRAP copy sources, through boto3 on moto.

AWS sources: S3 User Guide "Using server-side encryption with customer-provided keys (SSE-C)",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html ("When you retrieve an
object, you must provide the same encryption key"); S3 API Reference CompleteMultipartUpload / UploadPart errors
(``NoSuchUpload``, botocore ``s3/2006-03-01/service-2.json``); CopyObject ("Amazon S3 supports copy operations using
Multi-Region Access Points only as a destination"), https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html.
"""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError

BUCKET = "rules-bucket"
KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def code(err: pytest.ExceptionInfo) -> tuple[str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_an_sse_c_object_needs_its_key_to_be_read(s3):
    put = s3.put_object(Bucket=BUCKET, Key="k", Body=b"secret", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert put["SSECustomerAlgorithm"] == "AES256"
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="k")
    assert code(err) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket=BUCKET, Key="k")
    assert code(err)[1] == 400
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=OTHER_KEY)
    assert code(err) == ("AccessDenied", 403)
    got = s3.get_object(Bucket=BUCKET, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert (got["Body"].read(), got["SSECustomerAlgorithm"]) == (b"secret", "AES256")
    head = s3.head_object(Bucket=BUCKET, Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert head["ContentLength"] == 6


def test_sse_c_headers_on_a_plain_object_are_refused(s3):
    s3.put_object(Bucket=BUCKET, Key="plain", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="plain", SSECustomerAlgorithm="AES256", SSECustomerKey=KEY)
    assert code(err) == ("InvalidRequest", 400)
    assert s3.get_object(Bucket=BUCKET, Key="plain")["Body"].read() == b"x"


def test_a_multipart_sse_c_object_and_a_copy_keep_the_key(s3):
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="mp", **sse)["UploadId"]
    etag = s3.upload_part(Bucket=BUCKET, Key="mp", UploadId=upload, PartNumber=1, Body=b"p" * 10, **sse)["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="mp", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    with pytest.raises(ClientError) as err:
        s3.get_object(Bucket=BUCKET, Key="mp")
    assert code(err) == ("InvalidRequest", 400)
    assert s3.get_object(Bucket=BUCKET, Key="mp", **sse)["Body"].read() == b"p" * 10
    s3.put_object(Bucket=BUCKET, Key="src", Body=b"s")
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "src"}, **sse)
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key="copy")
    assert s3.get_object(Bucket=BUCKET, Key="copy", **sse)["Body"].read() == b"s"


@pytest.mark.parametrize("step", ["complete", "upload_part"])
def test_an_upload_id_the_bucket_does_not_hold_is_no_such_upload(s3, step):
    with pytest.raises(ClientError) as err:
        if step == "complete":
            s3.complete_multipart_upload(Bucket=BUCKET, Key="k", UploadId="not-here",
                                         MultipartUpload={"Parts": [{"ETag": '"e"', "PartNumber": 1}]})
        else:
            s3.upload_part(Bucket=BUCKET, Key="k", UploadId="not-here", PartNumber=1, Body=b"x")
    assert code(err) == ("NoSuchUpload", 404)


def test_moto_still_500s_on_an_unknown_upload_id(moto_patched):
    """If this fails, moto raises NoSuchUpload itself: drop ``_unknown_upload_ids``."""
    import moto.s3.models as models
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        backend = models.s3_backends["123456789012"]["aws"]
        original = moto_patched["complete_multipart_upload"]
        with pytest.raises(KeyError):
            original(backend, BUCKET, "not-here", iter([]))


def test_an_mrap_arn_as_copy_source_is_not_implemented(s3):
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    with pytest.raises(ClientError) as err:
        s3.copy_object(Bucket=BUCKET, Key="k2", CopySource={
            "Bucket": "arn:aws:s3::123456789012:accesspoint/abcdefghijklm.mrap", "Key": "k"})
    assert code(err) == ("NotImplemented", 501)


def test_get_object_retention_answers_what_was_put(aws):
    """S3 API Reference GetObjectRetention: the version's Mode and RetainUntilDate, or NoSuchObjectLockConfiguration."""
    import datetime

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="lock-rules", ObjectLockEnabledForBucket=True)
    until = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    version = client.put_object(Bucket="lock-rules", Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                                ObjectLockRetainUntilDate=until)["VersionId"]
    retention = client.get_object_retention(Bucket="lock-rules", Key="k", VersionId=version)["Retention"]
    assert retention == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    client.put_object(Bucket="lock-rules", Key="plain", Body=b"x")
    with pytest.raises(ClientError) as err:
        client.get_object_retention(Bucket="lock-rules", Key="plain")
    assert code(err) == ("NoSuchObjectLockConfiguration", 404)
