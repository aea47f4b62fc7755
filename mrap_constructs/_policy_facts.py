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
