"""Which S3 operations an MRAP serves (``operations.SUPPORTED_OPERATIONS``) and what the others get.

AWS: S3 User Guide, "Using Multi-Region Access Points with supported API operations",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html (the supported list); CopyObject only with
the MRAP as destination: S3 API Reference CopyObject, https://docs.aws.amazon.com/AmazonS3/latest/API/
API_CopyObject.html and ``botocore/data/s3/2006-03-01/service-2.json`` (CopyObject documentation).
"""

from __future__ import annotations

import pytest

from mrap_constructs.testing.dataplane import operations

#: (method, key, query, headers) of each operation as botocore sends it, and its name.
REQUESTS = [
    ("GET", "k", "", {}, "GetObject"),
    ("HEAD", "k", "", {}, "HeadObject"),
    ("PUT", "k", "", {}, "PutObject"),
    ("DELETE", "k", "versionId=v", {}, "DeleteObject"),
    ("PUT", "k", "", {"x-amz-copy-source": "bucket/src"}, "CopyObject"),
    ("GET", "k", "tagging", {}, "GetObjectTagging"),
    ("PUT", "k", "tagging", {}, "PutObjectTagging"),
    ("DELETE", "k", "tagging", {}, "DeleteObjectTagging"),
    ("GET", "k", "acl", {}, "GetObjectAcl"),
    ("PUT", "k", "acl", {}, "PutObjectAcl"),
    ("GET", "k", "legal-hold", {}, "GetObjectLegalHold"),
    ("PUT", "k", "legal-hold", {}, "PutObjectLegalHold"),
    ("GET", "k", "retention", {}, "GetObjectRetention"),
    ("PUT", "k", "retention", {}, "PutObjectRetention"),
    ("POST", "k", "restore", {}, "RestoreObject"),
    ("POST", "k", "uploads", {}, "CreateMultipartUpload"),
    ("PUT", "k", "partNumber=1&uploadId=u", {}, "UploadPart"),
    ("GET", "k", "uploadId=u", {}, "ListParts"),
    ("POST", "k", "uploadId=u", {}, "CompleteMultipartUpload"),
    ("DELETE", "k", "uploadId=u", {}, "AbortMultipartUpload"),
    ("GET", "", "list-type=2&encoding-type=url", {}, "ListObjectsV2"),
    ("GET", "", "uploads", {}, "ListMultipartUploads"),
    # not served through an MRAP
    ("GET", "", "encoding-type=url", {}, "ListObjects"),
    ("GET", "", "versions&encoding-type=url", {}, "ListObjectVersions"),
    ("POST", "", "delete", {}, "DeleteObjects"),
    ("GET", "k", "attributes", {}, "GetObjectAttributes"),
    ("PUT", "k", "partNumber=1&uploadId=u", {"x-amz-copy-source": "b/k"}, "UploadPartCopy"),
    ("POST", "k", "select&select-type=2", {}, "SelectObjectContent"),
    ("HEAD", "", "", {}, "HeadBucket"),
    ("GET", "", "location", {}, "GetBucket(location)"),
    ("PUT", "", "versioning", {}, "CreateBucket/PutBucket*"),
]


@pytest.mark.parametrize(("method", "key", "query", "headers", "name"), REQUESTS,
                         ids=[f"{r[4]}-{i}" for i, r in enumerate(REQUESTS)])
def test_each_request_is_the_operation_the_api_reference_names(method, key, query, headers, name):
    assert operations.operation_for(method, key, query, headers) == name


@pytest.mark.parametrize(("method", "key", "query", "headers", "name"), REQUESTS,
                         ids=[f"{r[4]}-{i}" for i, r in enumerate(REQUESTS)])
def test_only_the_documented_operations_are_served(method, key, query, headers, name):
    if name in operations.SUPPORTED_OPERATIONS:
        assert operations.check(method, key, query, headers) == name
    else:
        with pytest.raises(operations.Refused) as err:
            operations.check(method, key, query, headers)
        assert (err.value.code, err.value.status, err.value.operation) == ("MethodNotAllowed", 405, name)


def test_the_supported_list_is_the_user_guide_s_22_operations():
    assert len(operations.SUPPORTED_OPERATIONS) == 22
    assert {"ListObjects", "ListObjectVersions", "DeleteObjects", "GetObjectAttributes",
            "UploadPartCopy"}.isdisjoint(operations.SUPPORTED_OPERATIONS)


@pytest.mark.parametrize("source", [
    "arn%3Aaws%3As3%3A%3A123456789012%3Aaccesspoint/abcdefghijklm.mrap/object/k",  # as botocore sends it
    "arn:aws:s3::123456789012:accesspoint/abcdefghijklm.mrap/object/k",
])
def test_a_copy_from_an_mrap_is_refused_a_copy_into_one_is_not(source):
    with pytest.raises(operations.Refused) as err:
        operations.check("PUT", "k2", "", {"x-amz-copy-source": source})
    assert (err.value.code, err.value.status) == ("NotImplemented", 501)
    assert operations.check("PUT", "k2", "", {"x-amz-copy-source": "my-bucket/k?versionId=v"}) == "CopyObject"
    # a Regional access point ARN (with a Region) is not an MRAP
    assert not operations.is_mrap_arn_source("arn:aws:s3:us-east-1:123456789012:accesspoint/ap/object/k")
