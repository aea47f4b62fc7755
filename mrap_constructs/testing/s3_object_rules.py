"""S3 object rules moto 5.2.5 does not keep, each with the AWS source and the moto behaviour it corrects.

Installed by ``patches.installed(state)`` (so by every emulator); each rule is tested in
``tests/ops/test_s3_object_rules.py`` through boto3 against moto, which fails first if a moto upgrade changes what
is wrapped.

- **SSE-C.** moto ignores the ``x-amz-server-side-encryption-customer-*`` headers: an object written with a
  customer key reads back without it. AWS (S3 User Guide, "Using server-side encryption with customer-provided keys
  (SSE-C)", https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html: "When you
  retrieve an object, you must provide the same encryption key as part of your request"; S3 API Reference
  GetObject/HeadObject: "you must use the following headers"): the rule remembers the algorithm and the key's MD5
  of each version written with SSE-C (PutObject, CopyObject, CreateMultipartUpload → CompleteMultipartUpload) and
  answers a GET/HEAD of it without the headers 400 ``InvalidRequest`` ("The object was stored using a form of
  Server Side Encryption. The correct parameters must be provided to retrieve the object."), with another key 403
  ``AccessDenied``, and SSE-C headers on an object stored without them 400 ``InvalidRequest`` ("The encryption
  parameters are not applicable to this object."). The messages are the ones S3 sends (seen in minio/minio PR
  #4894 and boto/boto3 issue #982).
- **Unknown upload ids.** moto's ``complete_multipart_upload``, ``upload_part`` and ``upload_part_copy`` index
  ``bucket.multiparts`` directly, so an upload id the bucket does not hold is a ``KeyError`` → HTTP 500. AWS: 404
  ``NoSuchUpload`` (S3 API Reference, CompleteMultipartUpload / UploadPart "Errors"; botocore's S3 model
  ``NoSuchUpload``). Through an MRAP this is what a multipart upload gets when a failover moves its later requests
  to another bucket (S3 User Guide, "Multi-Region Access Point request routing": the request is processed "as if
  you made it directly to that bucket").
- **GetObjectRetention.** moto 5.2.5 has no GET ``?retention`` handler (it serves the object, and the response
  fails to serialize: HTTP 500), although it stores the retention PutObject / PutObjectRetention set. AWS: the
  version's ``Retention`` (``Mode``, ``RetainUntilDate``), or 404 ``NoSuchObjectLockConfiguration`` when it has none
  (S3 API Reference GetObjectRetention, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html;
  an operation MRAPs serve).
- **An MRAP ARN as copy source.** moto reads ``arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap/object/KEY`` as a bucket
  named ``arn:aws:s3::ACCOUNT:accesspoint`` and answers ``NoSuchBucket``. AWS supports an MRAP in a copy only as the
  destination (S3 API Reference, CopyObject); the rule answers what the MRAP endpoint answers
  (``dataplane.operations``): 501 ``NotImplemented``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any
from xml.sax.saxutils import escape

from mrap_constructs.testing.dataplane.operations import is_mrap_arn_source

ALGORITHM_HEADER = "x-amz-server-side-encryption-customer-algorithm"
KEY_MD5_HEADER = "x-amz-server-side-encryption-customer-key-md5"
KEY_HEADER = "x-amz-server-side-encryption-customer-key"
#: The attribute the SSE-C (algorithm, key MD5) of a version or a multipart upload is kept in.
SSE_C_ATTRIBUTE = "_mrap_sse_c"


def error(code: str, message: str, status: int, resource: str = "") -> tuple[int, dict[str, str], bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code><Message>{escape(message)}'
            f"</Message><Resource>{escape(resource)}</Resource><RequestId>MRAPEMULATOR</RequestId></Error>")
    return status, {"Content-Type": "application/xml"}, body.encode()


def sse_c_of(headers: Any) -> tuple[str, str] | None:
    """(algorithm, key MD5) of a request's SSE-C headers, or None. The MD5 is computed from the key when the
    request does not send it (botocore always sends both)."""
    import base64
    import hashlib

    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    algorithm = lower.get(ALGORITHM_HEADER)
    if not algorithm:
        return None
    md5 = lower.get(KEY_MD5_HEADER)
    if not md5 and lower.get(KEY_HEADER):
        md5 = base64.b64encode(hashlib.md5(base64.b64decode(lower[KEY_HEADER])).digest()).decode()
    return algorithm, md5 or ""


def install(originals: dict[str, Any]) -> None:
    """Install every rule, recording what each replaced in ``originals``."""
    _unknown_upload_ids(originals)
    _key_requests(originals)


def _unknown_upload_ids(originals: dict[str, Any]) -> None:
    from moto.s3.exceptions import NoSuchUpload
    from moto.s3.models import S3Backend

    def guarded(name: str, bucket_arg: int, upload_arg: int) -> Any:
        original = getattr(S3Backend, name)
        originals[name] = original

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            bucket = self.get_bucket(args[bucket_arg])
            upload_id = args[upload_arg]
            if upload_id not in bucket.multiparts:
                raise NoSuchUpload(upload_id=upload_id)
            return original(self, *args, **kwargs)

        method.__name__ = name
        return method

    S3Backend.complete_multipart_upload = guarded("complete_multipart_upload", 0, 1)
    S3Backend.upload_part = guarded("upload_part", 0, 1)
    S3Backend.upload_part_copy = guarded("upload_part_copy", 0, 1)


def _key_requests(originals: dict[str, Any]) -> None:
    from moto.s3.responses import S3Response

    original = S3Response.key_response
    originals["key_response"] = original

    def key_response(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        method = request.method.upper()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(full_url).query, keep_blank_values=True)
        source = request.headers.get("x-amz-copy-source") or ""
        if isinstance(source, bytes):
            source = source.decode()
        if method == "PUT" and source and is_mrap_arn_source(source):
            return error("NotImplemented", "A header you provided implies functionality that is not implemented. "
                         "S3 copies through a Multi-Region Access Point only as the destination.", 501)
        if method == "GET" and "retention" in query:
            return _get_object_retention(self, request, full_url, query)
        sse_c = sse_c_of(request.headers)
        upload = None
        if method == "POST" and "uploadId" in query:
            upload = _multipart(self, request, full_url, query["uploadId"][0])
        response = original(self, request, full_url, headers)
        status, response_headers, body = response
        plain = not (set(query) - {"versionId", "partNumber"} - {q for q in query if q.startswith("response-")})
        if method in ("GET", "HEAD") and plain and status in (200, 206, 304):
            return _check_read(self, request, full_url, query, sse_c, response)
        if status != 200:
            return response
        if method == "PUT" and not query and sse_c:
            key = _key(self, request, full_url, response_headers.get("x-amz-version-id"))
            if key is not None:
                setattr(key, SSE_C_ATTRIBUTE, sse_c)
                response_headers.update(_echo(sse_c))
        elif method == "POST" and "uploads" in query and sse_c:
            upload_id = _upload_id_of(body)
            multipart = _multipart(self, request, full_url, upload_id) if upload_id else None
            if multipart is not None:
                setattr(multipart, SSE_C_ATTRIBUTE, sse_c)
                response_headers.update(_echo(sse_c))
        elif upload is not None and getattr(upload, SSE_C_ATTRIBUTE, None):
            key = _key(self, request, full_url, response_headers.get("x-amz-version-id"))
            if key is not None:
                setattr(key, SSE_C_ATTRIBUTE, getattr(upload, SSE_C_ATTRIBUTE))
        return response

    S3Response.key_response = key_response


def _echo(sse_c: tuple[str, str]) -> dict[str, str]:
    return {ALGORITHM_HEADER: sse_c[0], KEY_MD5_HEADER: sse_c[1]}


def _names(response: Any, request: Any, full_url: str) -> tuple[str, str]:
    return response.parse_bucket_name_from_url(request, full_url), response.parse_key_name()


def _key(response: Any, request: Any, full_url: str, version_id: str | None) -> Any:
    bucket, key = _names(response, request, full_url)
    try:
        return response.backend.get_object(bucket, key, version_id=version_id or None)
    except Exception:  # moto's NoSuchKey / NoSuchVersion
        return None


def _multipart(response: Any, request: Any, full_url: str, upload_id: str) -> Any:
    try:
        response.setup_class(request, full_url)
        bucket, _ = _names(response, request, full_url)
        return response.backend.get_bucket(bucket).multiparts.get(upload_id)
    except Exception:  # no such bucket: moto answers it
        return None


def _upload_id_of(body: Any) -> str | None:
    import re

    text = body.decode() if isinstance(body, bytes) else str(body)
    found = re.search(r"<UploadId>([^<]+)</UploadId>", text)
    return found.group(1) if found else None


def _check_read(response: Any, request: Any, full_url: str, query: dict[str, list[str]],
                sse_c: tuple[str, str] | None, answer: Any) -> Any:
    """S3's answer to a GET/HEAD of a version, given its SSE-C and the request's."""
    key = _key(response, request, full_url, (query.get("versionId") or [None])[0])
    stored = getattr(key, SSE_C_ATTRIBUTE, None) if key is not None else None
    status, headers, body = answer
    resource = urllib.parse.urlsplit(full_url).path
    if stored is None:
        if sse_c is None:
            return answer
        return error("InvalidRequest", "The encryption parameters are not applicable to this object.", 400, resource)
    if sse_c is None:
        return error("InvalidRequest", "The object was stored using a form of Server Side Encryption. The correct "
                     "parameters must be provided to retrieve the object.", 400, resource)
    if sse_c[1] != stored[1]:
        return error("AccessDenied", "Access Denied", 403, resource)
    headers.update(_echo(stored))
    return status, headers, body


def _get_object_retention(response: Any, request: Any, full_url: str, query: dict[str, list[str]]) -> Any:
    response.setup_class(request, full_url)
    bucket, key_name = _names(response, request, full_url)
    version_id = (query.get("versionId") or [None])[0]
    resource = urllib.parse.urlsplit(full_url).path
    try:
        key = response.backend.get_object(bucket, key_name, version_id=version_id)
    except Exception as err:  # NoSuchBucket / NoSuchVersion: moto's own answer
        return error(getattr(err, "code", "NoSuchKey"), str(getattr(err, "message", err)), 404, resource)
    if key is None:
        return error("NoSuchKey", "The specified key does not exist.", 404, resource)
    if not getattr(key, "lock_mode", None):
        return error("NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock "
                     "configuration", 404, resource)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Mode>{escape(key.lock_mode)}</Mode><RetainUntilDate>{escape(str(key.lock_until))}</RetainUntilDate>"
            "</Retention>")
    return 200, {"Content-Type": "application/xml"}, body.encode()
