"""S3 bucket-configuration reads from another account: denied unless the bucket policy grants the caller's account.

AWS sources:
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html
  ("Bucket owner granting cross-account bucket permissions"): a principal of another account may act on a bucket only
  when the bucket owner's bucket policy grants it (and its own account's identity policy does).
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html: for a
  cross-account request, the resource-based policy must allow it.
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html: the MRAP's buckets
  of other accounts delegate data access to the MRAP's access points only; bucket-level APIs such as
  ``GetBucketReplication`` do not go through the MRAP.

moto 5.2.5 resolves a bucket of any account by name (``S3Backend.get_bucket`` falls back to
``s3_backends.bucket_accounts``) and answers ``GetBucketReplication`` to any caller. The rule wraps the backend: when
the backend's account (the caller's) is not the bucket's owner, the bucket policy must allow
``s3:GetReplicationConfiguration`` to a principal of the caller's account (its root, its account id, or ``*``) with
conditions that hold for the request (``aws:PrincipalAccount`` is the caller's account; a key the request does not
carry does not match: the caller's role ARN is unknown here, so an ``aws:PrincipalArn``-conditioned grant does not
count). Otherwise AWS answers ``AccessDenied``.
"""

from __future__ import annotations

import json
from typing import Any

from mrap_constructs._policy_facts import HTTPS_REQUEST_CONTEXT, condition_holds
from mrap_constructs.testing.strict._lookup import as_list, statements

ACTION = "s3:GetReplicationConfiguration"


def _names_account(statement: dict[str, Any], account: str) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    entries = [str(p) for p in as_list(principal.get("AWS"))]
    return any(p in ("*", account) or p.endswith(f":iam::{account}:root") for p in entries)


def allowed(bucket: Any, caller_account: str) -> bool:
    """Whether ``bucket``'s policy lets ``caller_account`` read its replication configuration."""
    from moto.iam.access_control import IAMPolicy, PermissionResult


    if bucket.policy is None:
        return False
    document = json.loads(bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy)
    context = {**HTTPS_REQUEST_CONTEXT, "aws:PrincipalAccount": caller_account}
    applicable = [st for st in statements(document) if _names_account(st, caller_account)
                  and condition_holds(st.get("Condition", {}), context)]
    if not applicable:
        return False
    result = IAMPolicy(json.dumps({**document, "Statement": applicable})).is_action_permitted(
        ACTION, f"arn:aws:s3:::{bucket.name}")
    return result == PermissionResult.PERMITTED


def install(originals: dict[str, Any]) -> None:
    """Wrap ``S3Backend.get_bucket_replication`` (original: ``originals["s3_get_bucket_replication"]``)."""
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    original = S3Backend.get_bucket_replication
    originals["s3_get_bucket_replication"] = original

    def get_bucket_replication(self: Any, bucket_name: str) -> Any:
        bucket = self.get_bucket(bucket_name)
        if bucket.account_id != self.account_id and not allowed(bucket, self.account_id):
            raise S3ClientError("AccessDenied", f"Access Denied: account {self.account_id} is not granted "
                                                f"{ACTION} on {bucket_name} (owned by {bucket.account_id})")
        return original(self, bucket_name)

    S3Backend.get_bucket_replication = get_bucket_replication
