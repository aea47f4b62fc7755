"""CloudTrail CreateTrail/UpdateTrail with ``KmsKeyId``: the key policy must let CloudTrail use the key.

CloudTrail checks the key when the trail is created or updated: the key must exist in the trail's Region
(``KmsKeyNotFoundException``) and its policy must allow the service principal ``cloudtrail.amazonaws.com``
``kms:GenerateDataKey*`` (encrypt log files) and ``kms:DescribeKey``, else ``InsufficientEncryptionPolicyException``.
Conditions in the key policy (``aws:SourceArn``, ``kms:EncryptionContext:aws:cloudtrail:arn``) are assumed to hold.

AWS sources:
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
  ("Required KMS key policy elements for CloudTrail")
- botocore/data/cloudtrail/2013-11-01/service-2.json shapes ``InsufficientEncryptionPolicyException``,
  ``KmsKeyNotFoundException`` (errors of ``CreateTrail`` and ``UpdateTrail``)

moto 5.2.5 stores any ``KmsKeyId`` string, existing key or not. moto has no ``AWS::CloudTrail::Trail`` model;
``cfn_models.TrailModel`` creates template trails through ``create_trail``, so deploys meet this rule too.
"""

from __future__ import annotations

import inspect
from typing import Any

from mrap_constructs.testing.strict._lookup import admits_service, find_key, load_document

SERVICE = "cloudtrail.amazonaws.com"
#: The actions CloudTrail needs on its key at CreateTrail (``kms:GenerateDataKey*`` covers ``kms:GenerateDataKey``).
ACTIONS = ["kms:GenerateDataKey", "kms:DescribeKey"]


def check(kms_key_id: str | None, bucket_name: str | None, account_id: str, region_name: str) -> None:
    """Raise CloudTrail's error if the trail's key is missing or its policy does not admit CloudTrail."""
    from moto.core.exceptions import JsonRESTError

    if not kms_key_id:
        return
    key = find_key(kms_key_id, account_id, region_name)
    if key is None or key.region != region_name:
        raise JsonRESTError("KmsKeyNotFoundException",
                            f"KMS key {kms_key_id} does not exist or is not in the trail's Region {region_name}.")
    if not admits_service(load_document(key.policy), SERVICE, ACTIONS):
        raise JsonRESTError("InsufficientEncryptionPolicyException",
                            f"Insufficient permissions to access S3 bucket {bucket_name} or KMS key {key.arn}.")


def install(originals: dict[str, Any]) -> None:
    """Wrap ``CloudTrailBackend.create_trail``/``update_trail`` (originals: ``originals["cloudtrail_create_trail"]``,
    ``["cloudtrail_update_trail"]``)."""
    from moto.cloudtrail.models import CloudTrailBackend

    for method, bucket_arg in (("create_trail", "bucket_name"), ("update_trail", "s3_bucket_name")):
        original = getattr(CloudTrailBackend, method)
        originals[f"cloudtrail_{method}"] = original
        setattr(CloudTrailBackend, method, _strict(original, bucket_arg))


def _strict(original: Any, bucket_arg: str) -> Any:
    signature = inspect.signature(original)

    def strict(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        bucket = arguments.get(bucket_arg)
        if bucket is None and original.__name__ == "update_trail":
            bucket = self.get_trail(arguments["name"]).bucket_name
        check(arguments.get("kms_key_id"), bucket, self.account_id, self.region_name)
        return original(self, *args, **kwargs)

    strict.__name__ = original.__name__
    return strict
