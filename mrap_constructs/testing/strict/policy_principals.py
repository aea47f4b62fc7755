"""Resource policies may name only principals that exist: S3 bucket policies, KMS key policies, SNS topic policies.

When a policy is saved, AWS resolves each IAM role/user ARN in ``Principal.AWS`` to the entity's unique id, so a
policy naming a role that does not exist (yet) is rejected. Account ids, ``arn:aws:iam::ACCOUNT:root``, ``*``,
``Service`` and ``Federated`` principals are accepted; condition values are not resolved.

AWS sources:
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html (section "IAM role
  principals": "If the role doesn't exist ... the policy is rejected"; unique-id resolution)
- S3 PutBucketPolicy: MalformedPolicy "Invalid principal in policy"
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html, code ``MalformedPolicy``)
- KMS CreateKey / PutKeyPolicy: ``MalformedPolicyDocumentException`` (botocore/data/kms/2014-11-01/service-2.json
  shape ``MalformedPolicyDocumentException``; https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html)
- SNS CreateTopic ``Policy`` attribute / SetTopicAttributes ``Policy``: ``InvalidParameter`` "Invalid parameter:
  Policy Error: PrincipalNotFound" (botocore/data/sns/2010-03-31/service-2.json shape ``InvalidParameterException``)

moto 5.2.5 stores every one of these policies without looking at the principals.
"""

from __future__ import annotations

from typing import Any

from mrap_constructs.testing.strict._lookup import load_document, unknown_principals


def _s3_error() -> Exception:
    from moto.s3.exceptions import S3ClientError

    return S3ClientError("MalformedPolicy", "Invalid principal in policy")


def _kms_error() -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("MalformedPolicyDocumentException",
                         "Policy contains a statement with one or more invalid principals.")


def _sns_error() -> Exception:
    from moto.sns.exceptions import SNSInvalidParameter

    return SNSInvalidParameter("Invalid parameter: Policy Error: PrincipalNotFound")


def install(originals: dict[str, Any]) -> None:
    """Wrap moto's S3 ``put_bucket_policy``, KMS ``create_key``/``put_key_policy`` and SNS
    ``create_topic``/``set_topic_attribute``; originals under ``originals["s3_put_bucket_policy"]``,
    ``["kms_create_key"]``, ``["kms_put_key_policy"]``, ``["sns_create_topic"]``, ``["sns_set_topic_attribute"]``."""
    from moto.kms.models import KmsBackend
    from moto.s3.models import S3Backend
    from moto.sns.models import SNSBackend

    put_bucket_policy = S3Backend.put_bucket_policy
    create_key = KmsBackend.create_key
    put_key_policy = KmsBackend.put_key_policy
    create_topic = SNSBackend.create_topic
    set_topic_attribute = SNSBackend.set_topic_attribute
    originals.update(s3_put_bucket_policy=put_bucket_policy, kms_create_key=create_key,
                     kms_put_key_policy=put_key_policy, sns_create_topic=create_topic,
                     sns_set_topic_attribute=set_topic_attribute)

    def strict_put_bucket_policy(self: Any, bucket_name: str, policy: bytes) -> None:
        if unknown_principals(load_document(policy)):
            raise _s3_error()
        put_bucket_policy(self, bucket_name, policy)

    def strict_create_key(self: Any, policy: Any, *args: Any, **kwargs: Any) -> Any:
        if unknown_principals(load_document(policy)):
            raise _kms_error()
        return create_key(self, policy, *args, **kwargs)

    def strict_put_key_policy(self: Any, key_id: str, policy: str) -> None:
        if unknown_principals(load_document(policy)):
            raise _kms_error()
        put_key_policy(self, key_id, policy)

    def strict_create_topic(self: Any, name: str, attributes: dict[str, Any] | None = None,
                            tags: dict[str, str] | None = None) -> Any:
        if unknown_principals(load_document((attributes or {}).get("Policy"))):
            raise _sns_error()
        return create_topic(self, name, attributes, tags)

    def strict_set_topic_attribute(self: Any, topic_arn: str, attribute_name: str, attribute_value: str) -> None:
        # moto's response layer passes the attribute name in snake case ("policy").
        if attribute_name.lower() == "policy" and unknown_principals(load_document(attribute_value)):
            raise _sns_error()
        set_topic_attribute(self, topic_arn, attribute_name, attribute_value)

    S3Backend.put_bucket_policy = strict_put_bucket_policy
    KmsBackend.create_key = strict_create_key
    KmsBackend.put_key_policy = strict_put_key_policy
    SNSBackend.create_topic = strict_create_topic
    SNSBackend.set_topic_attribute = strict_set_topic_attribute
