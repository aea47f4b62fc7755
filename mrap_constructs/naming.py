"""Deterministic physical names and the rules they must follow.

Buckets get ``{prefix}-{account}-{region}`` so every Region's stack can name every other Region's bucket
without cross-Region references (no exports, no custom resources, stable snapshots).
"""

from __future__ import annotations

import re
import weakref

from aws_cdk import Aws, Stack
from aws_cdk import aws_iam as iam

from mrap_constructs._validation import is_unresolved
from mrap_constructs.regions import SUPPORTED_REGIONS

#: AWS's pattern for an MRAP name (PutMultiRegionAccessPointPolicyInput.Name).
MRAP_NAME_PATTERN = re.compile(r"^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$")
MRAP_NAME_RULE = (
    "must be 3-50 characters of lowercase letters, digits and hyphens, "
    "start and end with a letter or digit (pattern ^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$)"
)

BUCKET_NAME_MAX = 63
_BUCKET_PREFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_FORBIDDEN_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_ACCOUNT_PATTERN = re.compile(r"^\d{12}$")
ACCOUNT_ID_LENGTH = 12


def region_partition(region: str) -> str:
    """The ARN partition of ``region``: ``aws`` for the MRAP Regions, ``aws-cn``/``aws-us-gov`` for those Regions,
    else the ``AWS::Partition`` token (resolved at deploy time, so always right)."""
    if region in SUPPORTED_REGIONS:
        return "aws"
    if not is_unresolved(region) and region.startswith(("cn-", "us-gov-")):
        return "aws-cn" if region.startswith("cn-") else "aws-us-gov"
    return Aws.PARTITION


#: Each stack's partition, read once: a stack's Region is fixed when it is created, and every read of
#: ``stack.region`` is a round trip to the jsii runtime (weak keys: the cache never keeps an App alive).
_PARTITIONS: weakref.WeakKeyDictionary[Stack, str] = weakref.WeakKeyDictionary()


def partition_of(stack: Stack) -> str:
    """The ARN partition of ``stack`` (``region_partition`` of its Region). Same as ``stack.partition`` for these
    Regions, without a jsii round trip into the CDK's Region database."""
    partition = _PARTITIONS.get(stack)
    if partition is None:
        partition = _PARTITIONS[stack] = region_partition(stack.region)
    return partition


def s3_bucket_arn(stack: Stack, bucket: str) -> str:
    """``arn:PARTITION:s3:::BUCKET`` for a bucket named ``bucket`` (what ``Bucket.from_bucket_name`` gives)."""
    return f"arn:{partition_of(stack)}:s3:::{bucket}"


def account_root_principal(stack: Stack, account: str) -> iam.ArnPrincipal:
    """``account`` as a principal (``arn:PARTITION:iam::ACCOUNT:root``): what ``iam.AccountPrincipal`` renders, with
    the partition from ``partition_of`` — ``AccountPrincipal`` loads the CDK's Region database for it (~50 ms)."""
    return iam.ArnPrincipal(f"arn:{partition_of(stack)}:iam::{account}:root")


def mrap_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid MRAP name, or None when it is."""
    if not isinstance(name, str):
        return f"must be a string, got {type(name).__name__}"
    if MRAP_NAME_PATTERN.match(name):
        return None
    return MRAP_NAME_RULE


def account_problem(account: str) -> str | None:
    """Return why ``account`` is not a 12-digit AWS account id, or None (tokens are accepted)."""
    if is_unresolved(account) or (isinstance(account, str) and _ACCOUNT_PATTERN.match(account)):
        return None
    return "must be a 12-digit AWS account id, e.g. '111122223333'"


#: S3's general purpose bucket naming rules:
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_FORBIDDEN_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Return which of S3's bucket naming rules ``name`` breaks, or None (tokens are accepted): 3-63 lowercase
    letters, digits, dots and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP
    address, no reserved prefix or suffix (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""
    if is_unresolved(name):
        return None
    if not isinstance(name, str) or not _BUCKET_NAME_PATTERN.match(name):
        return ("must be 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or "
                "digit (S3 bucket naming rules)")
    if ".." in name:
        return "must not contain two adjacent periods (S3 bucket naming rules)"
    if _IP_ADDRESS.match(name):
        return "must not be formatted as an IP address (S3 bucket naming rules)"
    for forbidden in _FORBIDDEN_BUCKET_PREFIXES:
        if name.startswith(forbidden):
            return f"must not start with {forbidden!r} (reserved by S3)"
    for forbidden in _FORBIDDEN_BUCKET_SUFFIXES:
        if name.endswith(forbidden):
            return f"must not end with {forbidden!r} (reserved by S3)"
    return None


def bucket_prefix_problem(prefix: str, regions: list[str] | tuple[str, ...]) -> str | None:
    """Return why ``prefix`` cannot name a bucket in every one of ``regions``, or None.

    The longest derived name, ``{prefix}-{12-digit account}-{longest region}``, must fit S3's 63 characters.
    """
    if not isinstance(prefix, str) or not _BUCKET_PREFIX_PATTERN.match(prefix):
        return "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit"
    for forbidden in _FORBIDDEN_BUCKET_PREFIXES:
        if prefix.startswith(forbidden):
            return f"must not start with {forbidden!r} (reserved by S3)"
    longest_region = max(regions, key=len, default="")
    longest = len(prefix) + 1 + ACCOUNT_ID_LENGTH + 1 + len(longest_region)
    if longest > BUCKET_NAME_MAX:
        room = BUCKET_NAME_MAX - (ACCOUNT_ID_LENGTH + 2 + len(longest_region))
        return (
            f"derives the {longest}-character bucket name '{prefix}-<account>-{longest_region}', over S3's "
            f"{BUCKET_NAME_MAX}; use at most {room} characters"
        )
    return None


def bucket_name(prefix: str, region: str, account: str | None = None) -> str:
    """Return the deterministic bucket name for ``region``.

    Args:
        prefix: the bucket prefix (validate it with ``bucket_prefix_problem`` first).
        region: the bucket's Region.
        account: the owning account. Default: the deploying account (``AWS::AccountId``), which resolves in
            whichever stack uses the name, so no cross-stack reference is created.
    """
    return f"{prefix}-{account or Aws.ACCOUNT_ID}-{region}"
