"""Which S3 operations a Multi-Region Access Point serves, and what S3 answers to the others.

AWS (S3 User Guide, "Using Multi-Region Access Points with supported API operations",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html, section "Multi-Region Access Point
compatibility with S3 operations"): "You can use Multi-Region Access Points to access buckets by using the following
subset of Amazon S3 API operations" — ``SUPPORTED_OPERATIONS`` below, one line per operation of that list. CopyObject
is accepted with the MRAP as the *destination* only (S3 API Reference, CopyObject,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html, and botocore's
``botocore/data/s3/2006-03-01/service-2.json`` ``CopyObject`` documentation: "Amazon S3 supports copy operations
using Multi-Region Access Points only as a destination when using the Multi-Region Access Point ARN").

Everything else (ListObjects v1, ListObjectVersions, DeleteObjects, GetObjectAttributes, UploadPartCopy,
SelectObjectContent, every bucket-level call: HeadBucket, GetBucketLocation, PutBucketXxx ...) is refused before it
reaches a bucket. AWS does not document the error; a GetBucketLocation sent to an MRAP was seen answered
``405 Method Not Allowed`` (iterate-ch/cyberduck issue #14044, ``GET /?location`` on ``*.mrap.accesspoint.
s3-global.amazonaws.com``), which is S3's documented ``MethodNotAllowed`` ("The specified method is not allowed
against this resource.", S3 API Reference "Error responses", https://docs.aws.amazon.com/AmazonS3/latest/API/
ErrorResponses.html), so the emulator answers that for every unsupported operation. A CopyObject whose *source* is an
MRAP ARN gets ``NotImplemented`` (501, "A header you provided implies functionality that is not implemented.", same
list): the documented code for a header (``x-amz-copy-source``) naming something S3 does not do; AWS does not
document which code it sends there either.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

#: The operations S3 accepts through an MRAP ARN (MrapOperations.html), with CopyObject as destination only
#: (API_CopyObject.html). The one list the gateway refuses against.
SUPPORTED_OPERATIONS: frozenset[str] = frozenset({
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",  # destination only: the copy source must be a bucket
    "CreateMultipartUpload",
    "DeleteObject",
    "DeleteObjectTagging",
    "GetObject",
    "GetObjectAcl",
    "GetObjectLegalHold",
    "GetObjectRetention",
    "GetObjectTagging",
    "HeadObject",
    "ListMultipartUploads",
    "ListObjectsV2",
    "ListParts",
    "PutObject",
    "PutObjectAcl",
    "PutObjectLegalHold",
    "PutObjectRetention",
    "PutObjectTagging",
    "RestoreObject",
    "UploadPart",
})

_OBJECT_SUBRESOURCES = {
    # query parameter: {method: operation}
    "tagging": {"GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"},
    "acl": {"GET": "GetObjectAcl", "PUT": "PutObjectAcl"},
    "legal-hold": {"GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"},
    "retention": {"GET": "GetObjectRetention", "PUT": "PutObjectRetention"},
    "attributes": {"GET": "GetObjectAttributes"},
    "torrent": {"GET": "GetObjectTorrent"},
    "restore": {"POST": "RestoreObject"},
    "select": {"POST": "SelectObjectContent"},
}


class Refused(Exception):
    """A request S3 does not serve through an MRAP: ``code``, ``message`` and ``status`` are S3's."""

    def __init__(self, code: str, message: str, status: int, operation: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.operation = code, message, status, operation


def operation_for(method: str, key: str, query: str, headers: Mapping[str, str]) -> str:
    """The S3 API operation a REST request is (S3 API Reference, each operation's "Request Syntax").

    Args:
        method: the HTTP method.
        key: the object key (empty for a bucket-level request).
        query: the raw query string.
        headers: the request headers (``x-amz-copy-source`` tells a copy from a write).
    """
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    method = method.upper()
    copy = any(name.lower() == "x-amz-copy-source" for name in headers)
    if not key:
        if method == "GET":
            if params.get("list-type") == ["2"]:
                return "ListObjectsV2"
            if "uploads" in params:
                return "ListMultipartUploads"
            if "versions" in params:
                return "ListObjectVersions"
            named = [name for name in params if name not in ("prefix", "delimiter", "marker", "max-keys",
                                                                "encoding-type")]
            return f"GetBucket({','.join(sorted(named))})" if named else "ListObjects"
        if method == "POST" and "delete" in params:
            return "DeleteObjects"
        return {"HEAD": "HeadBucket", "PUT": "CreateBucket/PutBucket*", "DELETE": "DeleteBucket*"}.get(
            method, f"{method} on the bucket")
    for name, by_method in _OBJECT_SUBRESOURCES.items():
        if name in params:
            return by_method.get(method, f"{method} ?{name}")
    if "uploadId" in params:
        if method == "PUT":
            return "UploadPartCopy" if copy else "UploadPart"
        return {"GET": "ListParts", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload"}.get(
            method, f"{method} ?uploadId")
    if method == "POST" and "uploads" in params:
        return "CreateMultipartUpload"
    if method == "PUT":
        return "CopyObject" if copy else "PutObject"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method, f"{method} on an object")


def is_mrap_arn_source(copy_source: str) -> bool:
    """True if an ``x-amz-copy-source`` value names an object through a Multi-Region Access Point ARN
    (``arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap/object/KEY``, percent-encoded or not)."""
    value = urllib.parse.unquote(copy_source).lstrip("/")
    return value.startswith("arn:") and value.split(":")[3:4] == [""] and ":accesspoint/" in value


def check(method: str, key: str, query: str, headers: Mapping[str, str]) -> str:
    """The operation, if S3 serves it through an MRAP; else raise ``Refused`` with S3's answer."""
    operation = operation_for(method, key, query, headers)
    if operation not in SUPPORTED_OPERATIONS:
        raise Refused("MethodNotAllowed", f"The specified method is not allowed against this resource. "
                      f"{operation} is not supported through a Multi-Region Access Point (supported: "
                      "https://docs.aws.amazon.com/AmazonS3/latest/userguide/MrapOperations.html).", 405, operation)
    source = next((v for k, v in headers.items() if k.lower() == "x-amz-copy-source"), "")
    if operation == "CopyObject" and is_mrap_arn_source(source):
        raise Refused("NotImplemented", "A header you provided implies functionality that is not implemented. "
                      "S3 copies through a Multi-Region Access Point only as the destination; the copy source "
                      "must be a bucket (CopyObject, Amazon S3 API Reference).", 501, operation)
    return operation
