"""The case library: each case is one documented behaviour of S3 Multi-Region Access Points, its AWS source, and a
check that runs against a ``World`` on any ``Target``.

A check raises ``AssertionError`` when the target does not behave as AWS documents, ``Skip`` when the target cannot
be asked (no second account, no known client Region); anything else it raises is a failure too. Cases with
``check=None`` are behaviours the project's emulator does not model; they are listed with their reason (and in
``docs/dataplane.md``), so no case passes locally for a behaviour AWS would not show.

Where AWS documents only *that* a request is refused, not the error code, the check asserts a 4xx refusal and that
nothing changed; where the code is documented (``InvalidRequest`` for all-passive routes), it asserts the code.
"""

from __future__ import annotations

import json
import re
import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mrap_constructs.testing.conformance.world import PRE_EXISTING_KEY, WHERE_KEY, World

# -- AWS sources ------------------------------------------------------------------------------------------------------
UG = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/"
API = "https://docs.aws.amazon.com/AmazonS3/latest/API/"
OPS = UG + "MrapOperations.html"
RESTRICTIONS = UG + "MultiRegionAccessPointRestrictions.html"
NAMING = UG + "multi-region-access-point-naming.html"
BUCKET_RULES = UG + "multi-region-access-point-buckets.html"
ROUTING = UG + "MultiRegionAccessPointRequestRouting.html"
FAILOVER = UG + "MrapFailover.html"
SUBMIT_ROUTES = API + "API_control_SubmitMultiRegionAccessPointRoutes.html"
ROUTE_SHAPE = ("botocore/data/s3control/2018-08-20/service-2.json, shape MultiRegionAccessPointRoute "
               "(TrafficDialPercentage: all passive -> InvalidRequest)")
NAME_SHAPE = ("botocore/data/s3control/2018-08-20/service-2.json, shape MultiRegionAccessPointName "
              "(pattern ^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$)")
COPY = API + "API_CopyObject.html"
WHAT_REPLICATES = UG + "replication-what-is-isnot-replicated.html"
DELETE_MARKERS = UG + "delete-marker-replication.html"
REPLICA_MODIFICATIONS = UG + "replication-for-metadata-changes.html"
REPLICATION_STATUS = UG + "replication-status.html"
REPLICATION_METRICS = UG + "repl-metrics.html"
REPLICATION_PERMISSIONS = UG + "setting-repl-config-perm-overview.html"
PERMISSIONS = UG + "MultiRegionAccessPointPermissions.html"
EVALUATION = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"
CROSS_ACCOUNT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"


class Skip(Exception):
    """The target cannot be asked this (e.g. it has no second account)."""


@dataclass(frozen=True)
class Case:
    """One documented behaviour.

    Args:
        id: stable identifier (``area.what``).
        area: operations, restrictions, control plane, routing, replication, permissions.
        title: the behaviour, as AWS states it.
        source: where AWS states it (URL, or a botocore model path).
        check: runs it against a world; None: not modelled (``not_modelled`` says why).
        needs: setup stages the check relies on (``World.create``'s stages).
        not_modelled: why the emulator cannot show this behaviour.
    """

    id: str
    area: str
    title: str
    source: str
    check: Callable[[World], None] | None
    needs: tuple[str, ...] = ("buckets", "mrap")
    not_modelled: str = ""


CASES: list[Case] = []


def case(id: str, area: str, title: str, source: str, *, needs: tuple[str, ...] = ("buckets", "mrap")
         ) -> Callable[[Callable[[World], None]], Callable[[World], None]]:
    def register(check: Callable[[World], None]) -> Callable[[World], None]:
        CASES.append(Case(id, area, title, source, check, needs))
        return check
    return register


def not_modelled(id: str, area: str, title: str, source: str, reason: str) -> None:
    CASES.append(Case(id, area, title, source, None, (), reason))


# -- helpers -----------------------------------------------------------------------------------------------------------
def _key(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def refused(call: Callable[[], Any], what: str, *, redirect: bool = False,
            not_implemented: bool = False) -> ClientError:
    """The ``ClientError`` of ``call``; fails the case when ``call`` succeeds or fails other than with a 4xx
    (``redirect``: a 3xx redirect to where the API is served counts as a refusal too; ``not_implemented``: so does
    S3's 501 ``NotImplemented``)."""
    try:
        answer = call()
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        low = 300 if redirect else 400
        assert low <= status < 500 or (not_implemented and status == 501), \
            f"{what}: answered {status} {err.response.get('Error', {}).get('Code')}, expected a refusal"
        return err
    status = (answer or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(answer, dict) else None
    raise AssertionError(f"{what}: accepted ({status}), AWS refuses it")


def code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def create_refused(world: World, name: str, buckets: list[str], what: str) -> None:
    """CreateMultiRegionAccessPoint with ``name``/``buckets`` must be refused: at once (4xx) or as a FAILED async
    operation (S3 checks some rules only while it creates)."""
    control = world.control(validate=False)
    try:
        token = control.create_multi_region_access_point(
            AccountId=world.account, ClientToken=secrets.token_hex(8),
            Details={"Name": name, "Regions": [{"Bucket": b} for b in buckets]})["RequestTokenARN"]
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        assert 400 <= status < 500, f"{what}: answered {status}, expected a 4xx refusal"
        return
    try:
        world.wait_operation(token, timeout=3600)
    except RuntimeError:
        return
    world.created.append(("mrap", name, "us-west-2"))  # made after all: delete it at the end
    raise AssertionError(f"{what}: the Multi-Region Access Point {name!r} was created, AWS refuses it")


def mrap_get(world: World, key: str, **kwargs: Any) -> dict[str, Any]:
    return dict(world.target.mrap_s3(**kwargs).get_object(Bucket=world.arn, Key=key))


def in_bucket(world: World, region: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
    try:
        extra = {"VersionId": version_id} if version_id else {}
        return dict(world.s3(region).head_object(Bucket=world.buckets[region], Key=key, **extra))
    except ClientError:
        return None


def put_via_mrap(world: World, key: str, body: bytes = b"x", **kwargs: Any) -> tuple[str, str]:
    """Put ``key`` through the MRAP; (version id, Region that holds it)."""
    version = world.target.mrap_s3().put_object(Bucket=world.arn, Key=key, Body=body, **kwargs)["VersionId"]
    # The source, not a replica that may already have landed elsewhere.
    holder = next((r for r in world.regions
                   if (in_bucket(world, r, key, version) or {"ReplicationStatus": "REPLICA"}).get(
                       "ReplicationStatus") != "REPLICA"), None)
    assert holder is not None, f"{key} ({version}) is in no bucket right after the PUT (as a source)"
    return version, holder


def other(world: World, region: str) -> str:
    return next(r for r in world.regions if r != region)


def wait_replica(world: World, key: str, version: str, region: str) -> dict[str, Any]:
    """The replica of ``key`` ``version`` in ``region`` (S3 keeps the version id: "Replicate objects while retaining
    metadata ... such as the original object creation time and version IDs", S3 User Guide, "Replicating
    objects")."""
    try:
        # Complete: a replica reports REPLICA (the emulator sets that last, after the version id and metadata).
        return dict(world.wait_for(
            lambda: (lambda head: head if head and head.get("ReplicationStatus") == "REPLICA" else None)(
                in_bucket(world, region, key, version)),
            world.target.replication_timeout, f"replica of {key} ({version}) in {region}"))
    except TimeoutError:
        other_versions = [v["VersionId"] for v in world.versions(region, key) if not v["Marker"]]
        if other_versions:
            raise AssertionError(f"the replica of {key} in {region} has version id {other_versions[0]}, the source "
                                 f"{version} (S3 keeps version ids)") from None
        raise


def wait_tags(world: World, region: str, key: str, version: str, tags: dict[str, str]) -> None:
    """Wait until the version in ``region`` carries ``tags`` (replicated with the object)."""
    expected = [{"Key": k, "Value": v} for k, v in tags.items()]
    world.wait_for(lambda: world.s3(region).get_object_tagging(
        Bucket=world.buckets[region], Key=key, VersionId=version)["TagSet"] == expected,
        world.target.replication_timeout, f"tags {tags} on {key} in {region}")


# -- supported operations (S3 User Guide, "Using Multi-Region Access Points with supported API operations") ----------
@case("operations.put-get", "operations", "PutObject and GetObject accept an MRAP ARN", OPS)
def _put_get(world: World) -> None:
    key = _key("ops/")
    version, _ = put_via_mrap(world, key, b"hello")
    got = world.target.mrap_s3().get_object(Bucket=world.arn, Key=key, VersionId=version)
    assert got["Body"].read() == b"hello"


@case("operations.head", "operations", "HeadObject accepts an MRAP ARN", OPS)
def _head(world: World) -> None:
    key = _key("ops/")
    version, _ = put_via_mrap(world, key, b"12345")
    head = world.target.mrap_s3().head_object(Bucket=world.arn, Key=key, VersionId=version)
    assert head["ContentLength"] == 5, head["ContentLength"]


@case("operations.delete", "operations", "DeleteObject accepts an MRAP ARN (a delete marker on a versioned bucket)",
      OPS)
def _delete(world: World) -> None:
    key = _key("ops/")
    put_via_mrap(world, key)
    answer = world.target.mrap_s3().delete_object(Bucket=world.arn, Key=key)
    assert answer.get("DeleteMarker") is True, answer


@case("operations.tagging", "operations", "Put/Get/DeleteObjectTagging accept an MRAP ARN", OPS)
def _tagging(world: World) -> None:
    s3, key = world.target.mrap_s3(), _key("ops/")
    version, _ = put_via_mrap(world, key)
    s3.put_object_tagging(Bucket=world.arn, Key=key, VersionId=version,
                          Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert s3.get_object_tagging(Bucket=world.arn, Key=key, VersionId=version)["TagSet"] == [
        {"Key": "team", "Value": "a"}]
    s3.delete_object_tagging(Bucket=world.arn, Key=key, VersionId=version)
    assert s3.get_object_tagging(Bucket=world.arn, Key=key, VersionId=version)["TagSet"] == []


@case("operations.get-acl", "operations", "GetObjectAcl accepts an MRAP ARN", OPS)
def _acl(world: World) -> None:
    key = _key("ops/")
    put_via_mrap(world, key)
    grants = world.target.mrap_s3().get_object_acl(Bucket=world.arn, Key=key)["Grants"]
    assert grants, "no grants (the owner's FULL_CONTROL expected)"


@case("operations.list-v2", "operations", "ListObjectsV2 accepts an MRAP ARN (lists the routed bucket)", OPS)
def _list_v2(world: World) -> None:
    key = _key("ops/list-")
    put_via_mrap(world, key)
    listed = world.target.mrap_s3().list_objects_v2(Bucket=world.arn, Prefix=key)
    assert [o["Key"] for o in listed.get("Contents", [])] == [key], listed.get("Contents")


@case("operations.multipart", "operations",
      "CreateMultipartUpload, UploadPart, ListParts, ListMultipartUploads and CompleteMultipartUpload accept an "
      "MRAP ARN", OPS)
def _multipart(world: World) -> None:
    s3, key = world.target.mrap_s3(), _key("ops/mpu-")
    upload = s3.create_multipart_upload(Bucket=world.arn, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=world.arn, Key=key, UploadId=upload, PartNumber=1, Body=b"p" * 1024)
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=world.arn, Key=key, UploadId=upload)["Parts"]] == [1]
    uploads = s3.list_multipart_uploads(Bucket=world.arn, Prefix=key).get("Uploads", [])
    assert [u["UploadId"] for u in uploads] == [upload], uploads
    s3.complete_multipart_upload(Bucket=world.arn, Key=key, UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=world.arn, Key=key)["Body"].read() == b"p" * 1024


@case("operations.abort-multipart", "operations", "AbortMultipartUpload accepts an MRAP ARN", OPS)
def _abort(world: World) -> None:
    s3, key = world.target.mrap_s3(), _key("ops/mpu-")
    upload = s3.create_multipart_upload(Bucket=world.arn, Key=key)["UploadId"]
    s3.abort_multipart_upload(Bucket=world.arn, Key=key, UploadId=upload)
    assert s3.list_multipart_uploads(Bucket=world.arn, Prefix=key).get("Uploads", []) == []


@case("operations.copy-to-mrap", "operations",
      "CopyObject with the MRAP ARN as the destination (copy operations use an MRAP only as a destination)", COPY)
def _copy_to(world: World) -> None:
    source_region = world.regions[0]
    key = _key("ops/copy-")
    world.target.mrap_s3().copy_object(Bucket=world.arn, Key=key,
                                       CopySource={"Bucket": world.buckets[source_region], "Key": WHERE_KEY})
    assert mrap_get(world, key)["Body"].read() == source_region.encode()


@case("operations.copy-from-mrap-refused", "operations", "CopyObject with the MRAP as the copy source is refused",
      COPY)
def _copy_from(world: World) -> None:
    region = world.regions[0]
    refused(lambda: world.s3(region).copy_object(
        Bucket=world.buckets[region], Key=_key("ops/copy-"),
        CopySource=f"{world.arn}/object/{WHERE_KEY}"), "CopyObject from the MRAP", not_implemented=True)


def _unsupported(id: str, title: str, call: Callable[[Any, World], Any]) -> None:
    @case(f"operations.unsupported.{id}", "operations", f"{title} is not among the operations that accept an MRAP "
                                                        "ARN: refused", OPS)
    def check(world: World) -> None:
        refused(lambda: call(world.target.mrap_s3(), world), title, not_implemented=True)


_unsupported("list-object-versions", "ListObjectVersions",
             lambda s3, w: s3.list_object_versions(Bucket=w.arn, Prefix="ops/"))
_unsupported("list-objects-v1", "ListObjects (v1)", lambda s3, w: s3.list_objects(Bucket=w.arn, Prefix="ops/"))
_unsupported("delete-objects", "DeleteObjects",
             lambda s3, w: s3.delete_objects(Bucket=w.arn, Delete={"Objects": [{"Key": "ops/none"}]}))
_unsupported("get-object-attributes", "GetObjectAttributes",
             lambda s3, w: s3.get_object_attributes(Bucket=w.arn, Key=WHERE_KEY, ObjectAttributes=["ETag"]))


@case("operations.presigned-url", "operations",
      "A presigned (SigV4A) URL for an MRAP ARN works", OPS + "#use-presigned-url-mrap")
def _presigned(world: World) -> None:
    key = _key("ops/presigned-")
    put_via_mrap(world, key, b"shared")
    url = world.target.mrap_s3().generate_presigned_url("get_object", Params={"Bucket": world.arn, "Key": key},
                                                        ExpiresIn=300)
    assert "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256" in url, url
    answer = world.target.http("GET", url)
    assert answer.status == 200, f"{answer.status}: {answer.body[:200]!r}"
    assert answer.body == b"shared"


# -- restrictions (S3 User Guide, "Multi-Region Access Point restrictions and limitations") --------------------------
@case("restrictions.sigv4-refused", "restrictions",
      "Requests must be signed with SigV4A: a SigV4 (AWS4-HMAC-SHA256) request is refused", RESTRICTIONS)
def _sigv4(world: World) -> None:
    key = _key("ops/sigv4-")
    refused(lambda: world.target.mrap_s3(signature="s3v4").put_object(Bucket=world.arn, Key=key, Body=b"x"),
            "a SigV4-signed PutObject")
    assert not any(in_bucket(world, r, key) for r in world.regions), "the object was stored anyway"


@case("restrictions.unsigned-refused", "restrictions",
      "An anonymous (unsigned) request through the MRAP is refused (Block Public Access is on for every new MRAP)",
      PERMISSIONS + "#MultiRegionAccessPointPublicAccess")
def _unsigned(world: World) -> None:
    answer = world.target.http("GET", f"https://{world.host}/{WHERE_KEY}")
    assert answer.status == 403, f"{answer.status}: {answer.body[:200]!r}"


@case("restrictions.tls12", "restrictions", "The global endpoint negotiates TLS 1.2 (the minimum requirement)",
      RESTRICTIONS)
def _tls12(world: World) -> None:
    try:
        version = world.target.tls_version(world.host)
    except (ssl.SSLError, OSError) as err:
        raise AssertionError(f"no TLS handshake: {err}") from err
    assert version == "TLSv1.2", f"negotiated {version}"


@case("restrictions.tls13-unsupported", "restrictions",
      "TLS 1.3 is not supported: a client offering only TLS 1.3 gets no connection", RESTRICTIONS)
def _tls13(world: World) -> None:
    if not hasattr(ssl, "TLSVersion"):
        raise Skip("this Python cannot offer TLS 1.3 only")
    try:
        version = world.target.tls_version(world.host, tls13_only=True)
    except ssl.SSLError as err:
        if "plain HTTP" in str(err):
            raise AssertionError(str(err)) from err
        return
    except OSError:
        return
    raise AssertionError(f"a TLS 1.3-only client connected ({version})")


def _bad_name(id: str, title: str, name: str) -> None:
    @case(f"control.name.{id}", "control plane", f"MRAP names: {title} (rejected: {name!r})", NAMING + "; " +
          NAME_SHAPE, needs=("buckets",))
    def check(world: World) -> None:
        create_refused(world, name, list(world.buckets.values())[:1], f"the name {name!r}")


_bad_name("uppercase", "no uppercase letters", "Conformance-Name")
_bad_name("underscore", "no underscores", "conformance_name")
_bad_name("period", "no periods", "conformance.name")
_bad_name("hyphen-edges", "cannot begin or end with a hyphen", "-conformance-")
_bad_name("too-short", "3 to 50 characters", "ab")
_bad_name("too-long", "3 to 50 characters", "a" * 51)


@case("control.name.unique", "control plane", "MRAP names are unique within an account: a second create is refused",
      RESTRICTIONS)
def _unique(world: World) -> None:
    create_refused(world, world.name, list(world.buckets.values()), "a second MRAP with the same name")


@case("control.alias-format", "control plane",
      "The alias is generated by S3: 13 lowercase letters or digits followed by .mrap (e.g. mfzwi23gnjvgw.mrap)",
      NAMING)
def _alias(world: World) -> None:
    assert re.fullmatch(r"[a-z0-9]{13}\.mrap", world.alias), f"alias {world.alias!r}"


@case("control.get", "control plane",
      "GetMultiRegionAccessPoint reports READY and every bucket with its Region", OPS)
def _get(world: World) -> None:
    point = world.control().get_multi_region_access_point(AccountId=world.account, Name=world.name)["AccessPoint"]
    assert point["Status"] == "READY", point["Status"]
    assert {r["Region"]: r["Bucket"] for r in point["Regions"]} == world.buckets, point["Regions"]


@case("control.list", "control plane", "ListMultiRegionAccessPoints includes the MRAP, with its alias", OPS)
def _list(world: World) -> None:
    points = world.control().list_multi_region_access_points(AccountId=world.account)["AccessPoints"]
    assert {p["Name"]: p["Alias"] for p in points}.get(world.name) == world.alias, points


@case("control.async-create", "control plane",
      "CreateMultiRegionAccessPoint is asynchronous: DescribeMultiRegionAccessPointOperation reports it by its "
      "request token", OPS)
def _describe(world: World) -> None:
    operation = world.control().describe_multi_region_access_point_operation(
        AccountId=world.account, RequestTokenARN=world.request_token)["AsyncOperation"]
    assert operation["Operation"] == "CreateMultiRegionAccessPoint", operation
    assert operation["RequestStatus"] == "SUCCEEDED", operation


@case("control.control-plane-region", "control plane",
      "The MRAP control plane is served in US West (Oregon) only: GetMultiRegionAccessPoint sent to another "
      "Region is refused", OPS)
def _control_region(world: World) -> None:
    # What AWS answers elsewhere is not in its docs; observed: 301 PermanentRedirect "This API operation is only
    # available in the following Regions: us-west-2" (https://github.com/gruntwork-io/cloud-nuke/issues/667,
    # https://github.com/boto/boto3/issues/3361), so a 3xx counts as the refusal. botocore's s3control model says of
    # these operations: "This action will always be routed to the US West (Oregon) Region".
    refused(lambda: world.control("eu-central-1").get_multi_region_access_point(AccountId=world.account,
                                                                                Name=world.name),
            "GetMultiRegionAccessPoint in eu-central-1", redirect=True)


@case("control.block-public-access-default", "control plane",
      "Every Block Public Access setting is on for a new MRAP unless turned off at creation",
      PERMISSIONS + "#MultiRegionAccessPointPublicAccess")
def _bpa(world: World) -> None:
    point = world.control().get_multi_region_access_point(AccountId=world.account, Name=world.name)["AccessPoint"]
    block = point.get("PublicAccessBlock", {})
    assert all(block.get(k) is True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                              "RestrictPublicBuckets")), block


@case("control.one-bucket-per-region", "control plane",
      "An MRAP has exactly one bucket per Region: two buckets of one Region are refused", BUCKET_RULES,
      needs=("buckets",))
def _one_per_region(world: World) -> None:
    region = world.regions[0]
    extra = f"{world.prefix}-extra-{region}"
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    world.s3(region).create_bucket(Bucket=extra, **config)
    world.created.append(("bucket", extra, region))
    create_refused(world, f"{world.prefix}-two", [world.buckets[region], extra], "two buckets in one Region")


@case("control.bucket-must-exist", "control plane", "The buckets of a new MRAP must exist", BUCKET_RULES,
      needs=("buckets",))
def _bucket_exists(world: World) -> None:
    create_refused(world, f"{world.prefix}-ghost", [f"{world.prefix}-does-not-exist"], "a bucket that does not exist")


@case("control.max-17-regions", "control plane", "An MRAP has at most 17 Regions", FAILOVER + "#RegionSupport",
      needs=("buckets",))
def _max_regions(world: World) -> None:
    from mrap_constructs.regions import SUPPORTED_REGIONS

    if not world.target.allows_many_buckets:
        raise Skip("creates 18 buckets in 18 Regions, one of them an opt-in Region")
    buckets = []
    for region in sorted(SUPPORTED_REGIONS)[:18]:
        bucket = f"{world.prefix}-r18-{region}"
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        world.s3(region).create_bucket(Bucket=bucket, **config)
        world.created.append(("bucket", bucket, region))
        buckets.append(bucket)
    create_refused(world, f"{world.prefix}-r18", buckets, "18 Regions")


@case("control.policy-replaces", "control plane",
      "PutMultiRegionAccessPointPolicy replaces the policy (an MRAP has one policy; it is edited or overwritten, "
      "never deleted)", PERMISSIONS + "#editing-mrap-policy", needs=("buckets", "mrap", "mrap policy"))
def _policy_replaces(world: World) -> None:
    marker = {"Sid": "ConformanceMarker", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
              "Resource": f"{world.arn}/object/never/*"}
    try:
        world.put_mrap_policy(world.mrap_policy(extra=[marker]))
        world.put_mrap_policy(world.policy)
        stored = world.control().get_multi_region_access_point_policy(AccountId=world.account, Name=world.name)
        sids = {s.get("Sid") for s in json.loads(stored["Policy"]["Established"]["Policy"])["Statement"]}
        assert "ConformanceMarker" not in sids, f"the earlier statement is still there: {sorted(sids)}"
        assert "DenyOnePrefix" in sids, sorted(sids)
    finally:
        world.put_mrap_policy(world.policy)


@case("control.policy-status", "control plane",
      "GetMultiRegionAccessPointPolicyStatus: a policy granting only named accounts is not public", PERMISSIONS,
      needs=("buckets", "mrap", "mrap policy"))
def _policy_status(world: World) -> None:
    status = world.control().get_multi_region_access_point_policy_status(AccountId=world.account, Name=world.name)
    assert status["Established"]["IsPublic"] is False, status["Established"]


@case("control.routes-get", "control plane",
      "GetMultiRegionAccessPointRoutes lists each bucket's Region and dial (100 = active after creation)", OPS)
def _routes_get(world: World) -> None:
    routes = world.control().get_multi_region_access_point_routes(AccountId=world.account, Mrap=world.arn)["Routes"]
    assert {r["Region"]: r["TrafficDialPercentage"] for r in routes} == {r: 100 for r in world.regions}, routes


@case("control.routes-api-regions", "control plane",
      "The routes API answers in us-east-1, us-west-2, ap-southeast-2, ap-northeast-1 and eu-west-1",
      SUBMIT_ROUTES)
def _routes_regions(world: World) -> None:
    for region in ("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1"):
        routes = world.control(region).get_multi_region_access_point_routes(AccountId=world.account,
                                                                            Mrap=world.arn)["Routes"]
        assert len(routes) == len(world.regions), f"{region}: {routes}"


@case("control.routes-other-region-refused", "control plane",
      "The routes API is not served in other Regions (e.g. eu-central-1)", SUBMIT_ROUTES)
def _routes_other(world: World) -> None:
    # AWS documents the five Regions, not the answer elsewhere: any 3xx/4xx refusal passes (the emulator answers
    # like the control plane, 301 PermanentRedirect).
    refused(lambda: world.control("eu-central-1").get_multi_region_access_point_routes(AccountId=world.account,
                                                                                       Mrap=world.arn),
            "GetMultiRegionAccessPointRoutes in eu-central-1", redirect=True)


@case("control.routes-all-passive-refused", "control plane",
      "At least one Region must stay active: routes making every Region passive get InvalidRequest",
      SUBMIT_ROUTES + "; " + ROUTE_SHAPE)
def _all_passive(world: World) -> None:
    try:
        err = refused(lambda: world.set_dials(set()), "every dial at 0")
        assert code(err) == "InvalidRequest", f"refused with {code(err)}, AWS answers InvalidRequest"
    finally:
        world.set_dials(set(world.regions))


# -- routing (S3 User Guide, "Multi-Region Access Point request routing", "failover controls") ------------------------
@case("routing.nearest-active", "routing",
      "With every Region active, a request goes to the bucket nearest to the client", ROUTING)
def _nearest(world: World) -> None:
    client = world.target.client_region
    if client not in world.regions:
        raise Skip("the client Region is unknown (give --client-region, one of the bucket Regions)")
    assert world.route_to(set(world.regions)) == client


@case("routing.put-goes-to-nearest", "routing",
      "A PUT is stored in the bucket the request is routed to (then replication copies it)", ROUTING)
def _put_nearest(world: World) -> None:
    served = world.route_to(set(world.regions))
    key = _key("local/put-")
    version = world.target.mrap_s3().put_object(Bucket=world.arn, Key=key, Body=b"x")["VersionId"]
    assert in_bucket(world, served, key, version), f"not in the routed bucket ({served})"
    assert not in_bucket(world, other(world, served), key), "also in the other bucket (no rule covers local/)"


@case("routing.passive-gets-nothing", "routing",
      "A passive Region (dial 0) receives no requests; the active one serves them", FAILOVER)
def _passive(world: World) -> None:
    try:
        for active in world.regions:
            assert world.route_to({active}) == active
            for _ in range(5):
                served = world.served_by()
                assert served == active, f"served by the passive {served}"
    finally:
        world.set_dials(set(world.regions))


@case("routing.404-not-retried", "routing",
      "A 404 from the routed bucket is the answer: S3 does not try the other buckets for the key", ROUTING)
def _no_retry(world: World) -> None:
    elsewhere, active = world.regions[0], world.regions[1]
    key = _key("local/only-")
    world.s3(elsewhere).put_object(Bucket=world.buckets[elsewhere], Key=key, Body=b"x")  # no rule covers local/
    try:
        world.route_to({active})
        err = refused(lambda: mrap_get(world, key), f"GET of a key only in {elsewhere}")
        assert code(err) in ("NoSuchKey", "404"), code(err)
    finally:
        world.set_dials(set(world.regions))


# -- replication (S3 User Guide, "What does Amazon S3 replicate?" and the pages it links) ----------------------------
@case("replication.new-object", "replication",
      "A new object is replicated with the same version id and body",
      WHAT_REPLICATES + "; " + UG + "replication.html", needs=("buckets", "mrap", "replication"))
def _replicated(world: World) -> None:
    key = _key("replicated/new-")
    version, holder = put_via_mrap(world, key, b"body")
    target = other(world, holder)
    wait_replica(world, key, version, target)
    body = world.s3(target).get_object(Bucket=world.buckets[target], Key=key, VersionId=version)["Body"].read()
    assert body == b"body"


@case("replication.metadata", "replication",
      "Object metadata (user metadata, content type) is replicated from the source to the replica",
      WHAT_REPLICATES, needs=("buckets", "mrap", "replication"))
def _metadata(world: World) -> None:
    key = _key("replicated/meta-")
    version, holder = put_via_mrap(world, key, b"body", Metadata={"owner": "conformance"}, ContentType="text/plain")
    replica = wait_replica(world, key, version, other(world, holder))
    source = in_bucket(world, holder, key, version) or {}
    assert replica["Metadata"] == {"owner": "conformance"}, \
        f"replica metadata {replica['Metadata']} (source in {holder}: {source.get('Metadata')})"
    assert replica["ContentType"] == "text/plain", replica["ContentType"]


@case("replication.tags", "replication", "Object tags are replicated", WHAT_REPLICATES,
      needs=("buckets", "mrap", "replication"))
def _tags(world: World) -> None:
    key = _key("replicated/tags-")
    version, holder = put_via_mrap(world, key, Tagging="team=a")
    target = other(world, holder)
    wait_replica(world, key, version, target)
    wait_tags(world, target, key, version, {"team": "a"})


@case("replication.status-headers", "replication",
      "x-amz-replication-status: COMPLETED on the source once copied, REPLICA on the replica", REPLICATION_STATUS,
      needs=("buckets", "mrap", "replication"))
def _status(world: World) -> None:
    key = _key("replicated/status-")
    version, holder = put_via_mrap(world, key)
    replica = wait_replica(world, key, version, other(world, holder))
    assert replica.get("ReplicationStatus") == "REPLICA", replica.get("ReplicationStatus")
    world.wait_for(lambda: (in_bucket(world, holder, key, version) or {}).get("ReplicationStatus") == "COMPLETED",
                   world.target.replication_timeout, "source status COMPLETED")


@case("replication.failed-status", "replication",
      "When the replication role may not write the replica, the source object's status becomes FAILED",
      REPLICATION_STATUS + "; " + REPLICATION_PERMISSIONS, needs=("buckets", "mrap", "replication"))
def _failed(world: World) -> None:
    key = _key("failing/")
    version, holder = put_via_mrap(world, key)
    world.wait_for(lambda: (in_bucket(world, holder, key, version) or {}).get("ReplicationStatus") == "FAILED",
                   world.target.replication_timeout, "source status FAILED")
    assert not in_bucket(world, other(world, holder), key), "a replica was written anyway"


@case("replication.delete-marker", "replication",
      "With delete marker replication enabled, a DELETE without a version id puts the same delete marker in the "
      "other bucket", DELETE_MARKERS, needs=("buckets", "mrap", "replication"))
def _marker(world: World) -> None:
    key = _key("replicated/dm-")
    version, holder = put_via_mrap(world, key)
    wait_replica(world, key, version, other(world, holder))
    marker = world.target.mrap_s3().delete_object(Bucket=world.arn, Key=key)["VersionId"]
    for region in world.regions:
        world.wait_for(lambda r=region: any(v["Marker"] and v["VersionId"] == marker
                                            for v in world.versions(r, key)),
                       world.target.replication_timeout, f"delete marker {marker} in {region}")


@case("replication.delete-marker-disabled", "replication",
      "Without delete marker replication, a delete marker stays in the bucket it was made in", DELETE_MARKERS,
      needs=("buckets", "mrap", "replication"))
def _marker_disabled(world: World) -> None:
    key = _key("nodm/")
    version, holder = put_via_mrap(world, key)
    target = other(world, holder)
    wait_replica(world, key, version, target)
    world.s3(holder).delete_object(Bucket=world.buckets[holder], Key=key)
    world.target.settle()
    assert not any(v["Marker"] for v in world.versions(target, key)), world.versions(target, key)
    assert in_bucket(world, target, key) is not None, "the replica is no longer the current version"


@case("replication.version-delete", "replication",
      "Deleting a specific version is never replicated: the replica version stays", WHAT_REPLICATES,
      needs=("buckets", "mrap", "replication"))
def _version_delete(world: World) -> None:
    key = _key("replicated/vd-")
    version, holder = put_via_mrap(world, key)
    target = other(world, holder)
    wait_replica(world, key, version, target)
    world.s3(holder).delete_object(Bucket=world.buckets[holder], Key=key, VersionId=version)
    world.target.settle()
    assert in_bucket(world, target, key, version), "the replica version was deleted too"


@case("replication.replicas-not-replicated", "replication",
      "A replica is not replicated again by the other bucket's rules (two-way rules do not loop)", WHAT_REPLICATES,
      needs=("buckets", "mrap", "replication"))
def _no_loop(world: World) -> None:
    key = _key("replicated/loop-")
    version, holder = put_via_mrap(world, key)
    wait_replica(world, key, version, other(world, holder))
    world.target.settle()
    assert [v["VersionId"] for v in world.versions(holder, key)] == [version], world.versions(holder, key)


@case("replication.existing-objects", "replication",
      "Objects that existed before the replication configuration are not replicated", WHAT_REPLICATES,
      needs=("buckets", "mrap", "replication"))
def _existing(world: World) -> None:
    world.target.settle()
    for region in world.regions:
        bodies = [world.s3(region).get_object(Bucket=world.buckets[region], Key=PRE_EXISTING_KEY,
                                              VersionId=v["VersionId"])["Body"].read()
                  for v in world.versions(region, PRE_EXISTING_KEY) if not v["Marker"]]
        assert bodies == [region.encode()], f"{region} holds {bodies}"


@case("replication.filter", "replication", "An object no rule's filter matches is not replicated",
      UG + "replication-add-config.html", needs=("buckets", "mrap", "replication"))
def _filter(world: World) -> None:
    key = _key("local/unfiltered-")
    version, holder = put_via_mrap(world, key)
    world.target.settle()
    assert not in_bucket(world, other(world, holder), key), "replicated without a matching rule"
    assert (in_bucket(world, holder, key, version) or {}).get("ReplicationStatus") is None


@case("replication.replica-modifications-off", "replication",
      "Without replica modification sync, a tag change on a replica is not copied back to the source",
      REPLICA_MODIFICATIONS, needs=("buckets", "mrap", "replication"))
def _mods_off(world: World) -> None:
    key = _key("replicated/mods-")
    version, holder = put_via_mrap(world, key, Tagging="v=1")
    target = other(world, holder)
    wait_replica(world, key, version, target)
    wait_tags(world, target, key, version, {"v": "1"})
    world.s3(target).put_object_tagging(Bucket=world.buckets[target], Key=key, VersionId=version,
                                        Tagging={"TagSet": [{"Key": "v", "Value": "2"}]})
    world.target.settle()
    tags = world.s3(holder).get_object_tagging(Bucket=world.buckets[holder], Key=key, VersionId=version)["TagSet"]
    assert tags == [{"Key": "v", "Value": "1"}], tags


@case("replication.replica-modifications-on", "replication",
      "With replica modification sync, a tag change on a replica is copied back to the source",
      REPLICA_MODIFICATIONS, needs=("buckets", "mrap", "replication"))
def _mods_on(world: World) -> None:
    key = _key("sync/")
    version, holder = put_via_mrap(world, key, Tagging="v=1")
    target = other(world, holder)
    wait_replica(world, key, version, target)
    wait_tags(world, target, key, version, {"v": "1"})
    world.s3(target).put_object_tagging(Bucket=world.buckets[target], Key=key, VersionId=version,
                                        Tagging={"TagSet": [{"Key": "v", "Value": "2"}]})
    world.wait_for(lambda: world.s3(holder).get_object_tagging(
        Bucket=world.buckets[holder], Key=key, VersionId=version)["TagSet"] == [{"Key": "v", "Value": "2"}],
        world.target.replication_timeout, "the replica's tag change on the source")


@case("replication.glacier-not-replicated", "replication",
      "Objects stored in S3 Glacier Flexible Retrieval (GLACIER) are not replicated", WHAT_REPLICATES,
      needs=("buckets", "mrap", "replication"))
def _glacier(world: World) -> None:
    key = _key("replicated/glacier-")
    version, holder = put_via_mrap(world, key, StorageClass="GLACIER")
    world.target.settle()
    assert not in_bucket(world, other(world, holder), key, version), "the GLACIER object was replicated"


def _metric(world: World, name: str, rule: str) -> None:
    for region, bucket in world.buckets.items():
        cloudwatch = world.target.client("cloudwatch", region)

        def listed(source: str = bucket, cw: Any = cloudwatch) -> bool:
            metrics = cw.list_metrics(Namespace="AWS/S3", MetricName=name,
                                      Dimensions=[{"Name": "SourceBucket", "Value": source},
                                                  {"Name": "RuleId", "Value": rule}])["Metrics"]
            return bool(metrics)

        world.wait_for(listed, world.target.metrics_timeout, f"{name} for {bucket} rule {rule} in {region}")


@case("replication.metrics", "replication",
      "Rules with metrics publish ReplicationLatency in AWS/S3 (dimensions SourceBucket, DestinationBucket, RuleId) "
      "in the source Region", REPLICATION_METRICS, needs=("buckets", "mrap", "replication"))
def _metrics(world: World) -> None:
    for region in world.regions:
        key = _key("replicated/metric-")
        world.s3(region).put_object(Bucket=world.buckets[region], Key=key, Body=b"m")
    _metric(world, "ReplicationLatency", "rep")


@case("replication.failure-metric", "replication",
      "A failed replication is counted in OperationsFailedReplication for rules with metrics", REPLICATION_METRICS,
      needs=("buckets", "mrap", "replication"))
def _failed_metric(world: World) -> None:
    for region in world.regions:
        world.s3(region).put_object(Bucket=world.buckets[region], Key=_key("failing/metric-"), Body=b"m")
    _metric(world, "OperationsFailedReplication", "fail")


# -- permissions (S3 User Guide, "Multi-Region Access Point permissions"; IAM "Policy evaluation logic") -------------
@case("permissions.mrap-policy-deny", "permissions",
      "An explicit Deny in the MRAP policy refuses the request even though every policy allows it",
      PERMISSIONS + "; " + EVALUATION, needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _mrap_deny(world: World) -> None:
    key = _key("mrap-denied/")
    for region, bucket in world.buckets.items():
        world.s3(region).put_object(Bucket=bucket, Key=key, Body=b"x")
    err = refused(lambda: mrap_get(world, key), "GetObject under a prefix the MRAP policy denies")
    assert code(err) == "AccessDenied", code(err)


@case("permissions.bucket-policy-deny", "permissions",
      "An explicit Deny in the routed bucket's policy refuses the request made through the MRAP",
      PERMISSIONS + "; " + EVALUATION, needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _bucket_deny(world: World) -> None:
    key = _key("bucket-denied/")
    for region, bucket in world.buckets.items():
        world.s3(region).put_object(Bucket=bucket, Key=key, Body=b"x")
    err = refused(lambda: mrap_get(world, key), "GetObject under a prefix the bucket policy denies")
    assert code(err) == "AccessDenied", code(err)


@case("permissions.role-allowed", "permissions",
      "A role of the account whose identity policy allows s3:GetObject reads through the MRAP (MRAP policy grants "
      "the account, the bucket delegates)", PERMISSIONS, needs=("buckets", "mrap", "mrap policy", "bucket policies",
                                                                 "roles"))
def _role_allowed(world: World) -> None:
    got = mrap_get(world, WHERE_KEY, credentials=world.role_keys("reader"))
    assert got["Body"].read().decode() in world.regions


@case("permissions.role-without-allow", "permissions",
      "A role of the account that no policy allows is refused through the MRAP", PERMISSIONS + "; " + EVALUATION,
      needs=("buckets", "mrap", "mrap policy", "bucket policies", "roles"))
def _role_denied(world: World) -> None:
    err = refused(lambda: mrap_get(world, WHERE_KEY, credentials=world.role_keys("nobody")),
                  "GetObject by a role without permissions")
    assert code(err) == "AccessDenied", code(err)


def _other_account(world: World, kind: str) -> dict[str, str]:
    keys = world.other_account_role(kind)
    if keys is None:
        raise Skip("the target has no second account (AWS: --other-profile)")
    return keys


@case("permissions.cross-account-both", "permissions",
      "A caller of another account reads when its identity policy and the MRAP policy allow it and the bucket "
      "delegates to the MRAP (s3:DataAccessPointAccount)", PERMISSIONS + "; " + CROSS_ACCOUNT,
      needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _cross_both(world: World) -> None:
    keys = _other_account(world, "reader")
    assert mrap_get(world, WHERE_KEY, credentials=keys)["Body"].read().decode() in world.regions


@case("permissions.cross-account-no-mrap-grant", "permissions",
      "A caller of another account is refused an action the MRAP policy does not grant it, whatever its identity "
      "policy allows", PERMISSIONS + "; " + CROSS_ACCOUNT,
      needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _cross_no_grant(world: World) -> None:
    keys = _other_account(world, "reader")
    key = _key("xacct/")
    err = refused(lambda: world.target.mrap_s3(keys).put_object(Bucket=world.arn, Key=key, Body=b"x"),
                  "PutObject by another account the MRAP policy grants only GetObject")
    assert code(err) == "AccessDenied", code(err)
    assert not any(in_bucket(world, r, key) for r in world.regions), "stored anyway"


@case("permissions.cross-account-no-identity", "permissions",
      "A caller of another account whose own identity policy allows nothing is refused, though the MRAP policy "
      "grants its account", PERMISSIONS + "; " + CROSS_ACCOUNT,
      needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _cross_no_identity(world: World) -> None:
    keys = _other_account(world, "nobody")
    err = refused(lambda: mrap_get(world, WHERE_KEY, credentials=keys), "GetObject by a role without permissions")
    assert code(err) == "AccessDenied", code(err)


@case("permissions.cross-account-needs-bucket-delegation", "permissions",
      "A caller of another account is refused on keys the bucket policy does not delegate, though the MRAP policy "
      "grants it", PERMISSIONS + "; " + CROSS_ACCOUNT,
      needs=("buckets", "mrap", "mrap policy", "bucket policies"))
def _cross_no_delegation(world: World) -> None:
    keys = _other_account(world, "reader")
    key = _key("undelegated/")
    for region, bucket in world.buckets.items():
        world.s3(region).put_object(Bucket=bucket, Key=key, Body=b"x")
    err = refused(lambda: mrap_get(world, key, credentials=keys), "GetObject of an undelegated key")
    assert code(err) == "AccessDenied", code(err)


# -- not modelled by the project's emulator (also in docs/dataplane.md, "What is not faithful") ----------------------
not_modelled("routing.measured-latency", "routing",
             "Routing follows measured network latency over the AWS global network (Global Accelerator)", ROUTING,
             "the emulator routes by great-circle distance between Regions (routing.REGION_COORDINATES)")
not_modelled("routing.dial-propagation", "routing",
             "A routes change can take up to 2 minutes to take effect", SUBMIT_ROUTES,
             "the emulator applies every update after one fixed delay (MRAP_EMULATOR_ROUTES_DELAY, default 0 s)")
not_modelled("replication.lifecycle", "replication",
             "Actions of a lifecycle configuration (expirations and their delete markers) are not replicated",
             WHAT_REPLICATES, "the emulator runs no lifecycle rules")
not_modelled("replication.rtc", "replication",
             "S3 Replication Time Control replicates 99.99% of objects within 15 minutes",
             UG + "replication-time-control.html", "the emulator replicates after a fixed delay; no SLA")
not_modelled("restrictions.privatelink", "restrictions",
             "Gateway VPC endpoints cannot reach an MRAP; interface endpoints (PrivateLink) can", RESTRICTIONS,
             "the data plane has no VPC or endpoint model; every request counts as from the internet")
not_modelled("restrictions.ipv6", "restrictions", "IPv6 is not supported", RESTRICTIONS,
             "the local proxy listens on 127.0.0.1 only")
not_modelled("restrictions.batch-operations", "restrictions",
             "S3 Batch Operations cannot use an MRAP", RESTRICTIONS,
             "the emulator's Batch Operations do not resolve MRAP ARNs at all")

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS), "duplicate case ids"


@dataclass
class Result:
    """The outcome of one case on one target: ``pass``, ``fail``, ``skipped``, ``setup failed`` or
    ``not modelled``, with a detail."""

    case: str
    outcome: str
    detail: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
