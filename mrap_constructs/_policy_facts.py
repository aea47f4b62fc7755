"""Reading IAM policy documents: what the synth-time rules (``mrap_constructs.rules``) and the strict emulator
(``mrap_constructs.testing.strict``) both ask of a policy — one implementation, so the two cannot disagree."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any


def load_document(document: str | bytes | dict | None) -> dict[str, Any] | None:
    """A policy document as a dict (CloudFormation passes dicts, the APIs strings), or None if it is not JSON."""
    if document is None or isinstance(document, dict):
        return document
    try:
        loaded = json.loads(document.decode() if isinstance(document, bytes) else document)
    except (ValueError, TypeError, AttributeError):
        return None
    return loaded if isinstance(loaded, dict) else None


def statements(document: str | bytes | dict | None) -> list[dict[str, Any]]:
    """The statements of a policy document (a dict or JSON), a lone statement as a list of one."""
    loaded = load_document(document)
    if not loaded:
        return []
    found = loaded.get("Statement", [])
    return [s for s in (found if isinstance(found, list) else [found]) if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    """``value`` as a list (None is empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def missing_service_actions(document: str | bytes | dict | None, service: str, actions: Sequence[str]) -> list[str]:
    """Which of ``actions`` no Allow statement grants to service principal ``service`` (or to everyone); wildcards in
    the policy's ``Action`` apply, case-insensitively, and conditions are assumed to hold (they cannot be known before
    the call)."""
    covered: set[str] = set()
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or not _names_service(statement.get("Principal"), service):
            continue
        patterns = [str(a).lower() for a in as_list(statement.get("Action"))]
        covered.update(a for a in actions if any(fnmatch.fnmatchcase(a.lower(), p) for p in patterns))
    return [a for a in actions if a not in covered]


def admits_service(document: str | bytes | dict | None, service: str, actions: Sequence[str]) -> bool:
    """Whether ``service`` is granted every one of ``actions`` (see ``missing_service_actions``)."""
    return not missing_service_actions(document, service, actions)


def _names_service(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in as_list(principal.get("Service")) or "*" in as_list(principal.get("AWS"))


#: How a resource policy's ``Principal`` reaches a caller (``principal_reach``).
DIRECT, THROUGH_ACCOUNT = "direct", "account"


def principal_reach(principal: Any, *, account: str, arn: str, role_arn: str | None = None) -> str | None:
    """How a resource policy's ``Principal`` names a caller of ``account`` signing as ``arn`` (an assumed role's
    session ARN, with ``role_arn`` its role): ``DIRECT`` when it names everyone (``*``), the caller's ARN, its role
    (any path) or, for the account's root, the account; ``THROUGH_ACCOUNT`` when it names only the caller's account
    (``ACCOUNT`` or ``arn:aws:iam::ACCOUNT:root``); None when it does not name the caller.

    ``THROUGH_ACCOUNT`` is a delegation, not a grant: an account identifier (or its ``:root`` ARN, the same thing)
    as Principal "delegates authority to the account", whose administrator must then grant the IAM user or role
    access; it "does not limit permissions to only the root user" either (IAM User Guide, "AWS JSON policy elements:
    Principal", AWS account principals,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
    So a role of the account is admitted only when its identity policy allows too ("Policy evaluation logic",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
    """
    if principal == "*":
        return DIRECT
    if not isinstance(principal, dict):
        return None
    root = f"arn:aws:iam::{account}:root"
    role_name = (role_arn or "").rsplit("/", 1)[-1]
    reach = None
    for value in (str(v) for v in as_list(principal.get("AWS"))):
        if value in ("*", arn, role_arn):
            return DIRECT
        if role_name and value.startswith(f"arn:aws:iam::{account}:role/") and value.endswith(f"/{role_name}"):
            return DIRECT
        if value in (account, root):
            if arn == root:
                return DIRECT
            reach = THROUGH_ACCOUNT
    return reach


#: The request context the emulator evaluates resource-policy conditions with: it stands in for S3's HTTPS endpoint
#: (every request the emulator answers counts as TLS, ``aws:SecureTransport``).
HTTPS_REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators the project's policies use: whether every condition of a
    statement's ``Condition`` block holds for the request context ``context`` (condition key -> value). The emulator
    evaluates policies with it (bucket, MRAP, role and key policies); it needs no AWS SDK."""
    for operator, entries in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists").split(":")[-1]
        for key, expected in entries.items():
            wanted = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
            actual = context.get(key)
            if actual is None:
                # IAM: a key the request does not carry does not match, so a negated operator (StringNotEquals,
                # ArnNotLike, ...) holds: "aws:SourceVpce not in [...]" is true without a VPC endpoint.
                # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
                if if_exists or "Not" in base:
                    continue
                return False
            if base in ("StringEquals", "ArnEquals"):
                ok = actual in wanted
            elif base == "Bool":
                ok = actual.lower() in [w.lower() for w in wanted]
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = actual not in wanted
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(actual, w) for w in wanted)
            else:
                return False  # an operator this emulator does not evaluate: treat the statement as not applying
            if not ok:
                return False
    return True
