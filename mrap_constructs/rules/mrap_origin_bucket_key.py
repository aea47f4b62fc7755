"""With OAC in front of an MRAP, every SSE-KMS bucket's key must let CloudFront decrypt.

CloudFront reads SSE-KMS objects only if the key policy allows ``cloudfront.amazonaws.com`` ``kms:Decrypt`` (the
CloudFront developer guide, "Restrict access to an Amazon S3 origin", SSE-KMS); without it the objects of that bucket
fail with 403 while the others are served. Checked for keys of buckets this assembly creates.
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, missing_service_actions, mrap_origins, referenced_id

NAME = "MrapOriginKeyDeniesCloudFront"
SOURCE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html"
FIX = ("allow cloudfront.amazonaws.com kms:Decrypt in each bucket key's policy, conditioned on the distribution(s) "
       "(AWS:SourceArn) — mrap_constructs.cloudfront.admit_cloudfront")
SERVICE = "cloudfront.amazonaws.com"


def check(assembly: Assembly) -> Iterator[Finding]:
    for origin in mrap_origins(assembly):
        if origin.oac is None:
            continue
        for stack, bucket_id, props in origin.buckets:
            for rule in props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", []):
                key_id = referenced_id(rule.get("ServerSideEncryptionByDefault", {}).get("KMSMasterKeyID"))
                key = stack.resource(key_id or "") or {}
                if key.get("Type") != "AWS::KMS::Key":
                    continue
                missing = missing_service_actions(key.get("Properties", {}).get("KeyPolicy"), SERVICE,
                                                  ["kms:Decrypt"])
                if missing:
                    yield Finding(NAME, origin.stack.name, origin.logical_id, origin.location,
                                  f"bucket {bucket_id} of {stack.name} is encrypted with key {key_id}, which does not "
                                  f"allow {SERVICE} {', '.join(missing)}: its objects are refused to CloudFront")
