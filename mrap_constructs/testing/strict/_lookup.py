"""Lookups across moto's backends and IAM policy-document helpers shared by the strict rules.

Policy grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
"""

from __future__ import annotations

import re
from typing import Any

from mrap_constructs._policy_facts import admits_service, as_list, load_document, statements  # noqa: F401 - re-exported

#: An IAM role or user ARN (a principal AWS resolves to a unique id when the policy is saved).
IAM_ENTITY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):(?P<kind>role|user)/(?P<path_name>.+)$")


def find_bucket(name: str) -> Any:
    """The moto bucket ``name`` in any account (moto keeps buckets under the ``aws`` partition key), or None."""
    from moto.s3.models import s3_backends

    # Copies: concurrent deploys in other accounts add backends while this runs (the dict would change size).
    for account_backends in list(s3_backends.values()):
        for backend in list(account_backends.values()):
            if name in backend.buckets:
                return backend.buckets[name]
    return None


def find_key(key_id: str, account_id: str, region_name: str) -> Any:
    """The moto KMS key for a key id, key ARN, alias name or alias ARN (ARNs name their own account/Region)."""
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        region_name, account_id = parts[3], parts[4]
    backend = kms_backends[account_id][region_name]
    try:
        return backend.keys[backend.any_id_to_key_id(key_id)]
    except (KeyError, AttributeError, TypeError):  # unknown key, or an alias that targets nothing
        return None


def iam_entity_exists(arn: str) -> bool:
    """Whether the IAM role/user ``arn`` exists in moto's IAM backend of its account."""
    from moto.iam.models import iam_backends

    match = IAM_ENTITY_ARN.match(arn)
    if match is None:
        return True
    backend = iam_backends[match["account"]]["aws"]
    entities = backend.roles.values() if match["kind"] == "role" else backend.users.values()
    return any(entity.arn == arn for entity in entities)





def aws_principals(statement: dict[str, Any]) -> list[str]:
    """The ``Principal.AWS`` entries of a statement (``"*"`` alone is a string principal, not listed)."""
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in as_list(principal.get("AWS"))]


def unknown_principals(document: dict[str, Any] | None) -> list[str]:
    """IAM role/user ARNs named as principals that do not exist. Account ids, ``:root``, ``*``, Service and
    Federated principals are accepted; conditions are not resolved (AWS does not resolve them either)."""
    return [p for st in statements(document) for p in aws_principals(st) if not iam_entity_exists(p)]


