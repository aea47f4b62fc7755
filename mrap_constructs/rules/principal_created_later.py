"""A resource policy must not name, as a principal, an IAM role or user that does not exist yet when it is saved.

S3 bucket policies, KMS key policies and SNS topic policies resolve principals when the policy is saved: a role
created in the same or a later deploy wave fails the deploy with "Invalid principal in policy" /
``MalformedPolicyDocumentException`` ("The principals in the key policy must exist and be visible to KMS",
botocore ``kms/2014-11-01`` shape ``PutKeyPolicyRequest``). Condition values (``aws:PrincipalArn``) are not resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, as_list, flat, statements

NAME = "PrincipalCreatedLater"
SOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles"
FIX = ("name the role's account as the principal and the role ARN in an aws:PrincipalArn condition, or deploy the "
       "role in an earlier wave")

#: Resource policy documents by resource type.
POLICY_PROPERTIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::MultiRegionAccessPointPolicy": "Policy",
}
_IDENTITY_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")


def check(assembly: Assembly) -> Iterator[Finding]:
    created: dict[tuple[str, str, str], str] = {}  # (account, kind, name) -> stack
    for stack in assembly.stacks.values():
        for kind, resource_type, name_key in (("role", "AWS::IAM::Role", "RoleName"),
                                              ("user", "AWS::IAM::User", "UserName")):
            for _, props in stack.resources(resource_type):
                name = props.get(name_key)
                if isinstance(name, str):
                    created[(stack.account, kind, name)] = stack.name
    for stack in assembly.stacks.values():
        for resource_type, key in POLICY_PROPERTIES.items():
            for logical_id, props in stack.resources(resource_type):
                for index, statement in enumerate(statements(props.get(key))):
                    principal = statement.get("Principal")
                    arns = as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []
                    for arn in (flat(a) for a in arns):
                        match = _IDENTITY_ARN.match(arn)
                        if not match:
                            continue
                        owner = created.get((match.group(1), match.group(2), match.group(3)))
                        if owner is None or assembly.deployed_before(owner, stack.name):
                            continue
                        yield Finding(NAME, stack.name, logical_id, f"Properties.{key}.Statement[{index}].Principal",
                                      f"names {arn}, which {owner} creates in wave {assembly.wave(owner)}; this policy "
                                      f"is saved in wave {assembly.wave(stack.name)}, before the {match.group(2)} "
                                      "exists (AWS rejects it: Invalid principal in policy)")
