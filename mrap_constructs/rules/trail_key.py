"""A KMS-encrypted CloudTrail trail's key must admit CloudTrail.

CloudTrail needs ``kms:GenerateDataKey*`` and ``kms:DescribeKey`` on the trail's key; otherwise ``CreateTrail`` fails
with ``InsufficientEncryptionPolicyException`` (botocore ``cloudtrail/2013-11-01``):
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, missing_service_actions, referenced_id

NAME = "TrailKeyDeniesCloudTrail"
SOURCE = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html"
FIX = ("allow cloudtrail.amazonaws.com kms:GenerateDataKey* (with the aws:cloudtrail:arn encryption context) and "
       "kms:DescribeKey in the key policy (mrap_constructs.monitoring.trail.admit_cloudtrail)")
SERVICE = "cloudtrail.amazonaws.com"


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        for logical_id, props in stack.resources("AWS::CloudTrail::Trail"):
            key_id = referenced_id(props.get("KMSKeyId"))
            key = stack.resource(key_id or "") or {}
            if key.get("Type") != "AWS::KMS::Key":
                continue
            policy = key.get("Properties", {}).get("KeyPolicy")
            missing = missing_service_actions(policy, SERVICE, ["kms:GenerateDataKey", "kms:DescribeKey"])
            if missing:
                yield Finding(NAME, stack.name, logical_id, "Properties.KMSKeyId",
                              f"the trail's key {key_id} does not allow {SERVICE} {', '.join(missing)}: CreateTrail "
                              "fails with InsufficientEncryptionPolicyException")
