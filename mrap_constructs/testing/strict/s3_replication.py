"""S3 PutBucketReplication: the configuration rules S3 enforces when the configuration is put.

AWS sources:
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-requirements.html (versioning on source and
  destination; the destination bucket must exist)
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-add-config.html (rule priorities, unique rule
  ids, ``DeleteMarkerReplication`` not supported with tag-based filters)
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html (S3 RTC needs metrics)
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
  (``SseKmsEncryptedObjects`` and ``ReplicaKmsKeyID`` go together)
- botocore/data/s3/2006-03-01/service-2.json shapes ``ReplicationRule``, ``ReplicationRuleFilter``,
  ``ReplicationRuleAndOperator`` (XML member ``Tag``), ``Destination``

moto 5.2.5 checks only the source bucket's versioning, in ``S3Response`` (the HTTP layer); its backend
``put_bucket_replication`` stores anything. The rules here wrap the backend, so a caller in-process meets them too.
The configuration arrives as moto's ``xmltodict`` dict (``Rule`` a dict when there is one, ``And.Tag`` a dict when
there is one tag); boto3-shaped dicts (``Rules``, ``And.Tags``) are accepted as well.
"""

from __future__ import annotations

from typing import Any

from mrap_constructs.testing.strict._lookup import as_list, find_bucket


def _error(code: str, message: str) -> Exception:
    from moto.s3.exceptions import S3ClientError

    return S3ClientError(code, message)


def _enabled(element: Any) -> bool:
    return isinstance(element, dict) and element.get("Status") == "Enabled"


def _has_tag_filter(rule: dict[str, Any]) -> bool:
    rule_filter = rule.get("Filter") or {}
    conjunction = rule_filter.get("And") or {}
    return bool(rule_filter.get("Tag") or conjunction.get("Tag") or conjunction.get("Tags"))


def check(source: Any, configuration: dict[str, Any]) -> None:
    """Raise S3's error for the first rule ``configuration`` breaks on bucket ``source``."""
    if not source.is_versioned:
        raise _error("InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication "
                                       "configuration")
    rules = [r for r in as_list(configuration.get("Rule", configuration.get("Rules"))) if isinstance(r, dict)]
    ids = [r["ID"] for r in rules if r.get("ID")]
    if len(ids) != len(set(ids)):
        raise _error("InvalidArgument", "Rule Id must be unique")
    priorities = [str(r["Priority"]) for r in rules if "Filter" in r and r.get("Priority") is not None]
    if len(priorities) != len(set(priorities)):
        raise _error("InvalidArgument", "Found overlapping priorities")
    for rule in rules:
        destination = rule.get("Destination") or {}
        bucket = find_bucket(str(destination.get("Bucket", "")).split(":::")[-1])
        if bucket is None:
            raise _error("InvalidRequest", "Destination bucket must exist")
        if not bucket.is_versioned:
            raise _error("InvalidRequest", "Destination bucket must have versioning enabled.")
        if _has_tag_filter(rule) and _enabled(rule.get("DeleteMarkerReplication")):
            raise _error("InvalidRequest", "DeleteMarkerReplication is not supported if any Tag filter is specified")
        if _enabled(destination.get("ReplicationTime")) and not _enabled(destination.get("Metrics")):
            raise _error("InvalidRequest", "Replication Time Control (ReplicationTime) requires Metrics to be "
                                           "Enabled")
        sse_kms = _enabled((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects"))
        replica_key = (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
        if sse_kms and not replica_key:
            raise _error("InvalidRequest", "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is "
                                           "present")
        if replica_key and not sse_kms:
            raise _error("InvalidRequest", "SseKmsEncryptedObjects must be specified if EncryptionConfiguration is "
                                           "present")


def install(originals: dict[str, Any]) -> None:
    """Wrap ``S3Backend.put_bucket_replication`` (original: ``originals["s3_put_bucket_replication"]``)."""
    from moto.s3.models import S3Backend

    original = S3Backend.put_bucket_replication
    originals["s3_put_bucket_replication"] = original

    def put_bucket_replication(self: Any, bucket_name: str, replication: dict[str, Any]) -> None:
        check(self.get_bucket(bucket_name), replication)
        original(self, bucket_name, replication)

    S3Backend.put_bucket_replication = put_bucket_replication
