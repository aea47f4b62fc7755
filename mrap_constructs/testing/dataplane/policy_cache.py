"""Parsed policy documents, keyed by their text: what the data plane and the replication engine evaluate per
request and per job without parsing the same JSON again.

A policy is read from moto's state on every request (the MRAP policy, the bucket policy, a role's or a user's
policies); only the parsing is cached, under the exact text moto holds. A changed policy is a new text, so the next
request or job evaluates the new one: nothing to invalidate, no stale decision (``tests/dataplane/
test_policy_cache.py`` changes a policy between two requests). The cache belongs to its owner (``DataPlane``,
``ReplicationEngine``), not to the module; it holds at most ``size`` documents and starts over when full.
"""

from __future__ import annotations

import threading
from typing import Any

from mrap_constructs._policy_facts import load_document

_MISSING = object()


class PolicyCache:
    """``document(text)``: ``_policy_facts.load_document`` of a policy text (the same dict for the same text, None
    for text that is not a JSON object; do not mutate it).

    Example:
        cache = PolicyCache()
        statements = cache.document('{"Statement": []}')["Statement"]
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._parsed: dict[str | bytes, Any] = {}
        self._lock = threading.Lock()

    def document(self, policy: str | bytes | dict | None) -> Any:
        """The parsed ``policy`` (a dict is returned as it is; None stays None)."""
        if policy is None or isinstance(policy, dict):
            return policy
        found = self._parsed.get(policy, _MISSING)
        if found is _MISSING:
            found = load_document(policy)
            with self._lock:
                if len(self._parsed) >= self.size:
                    self._parsed.clear()
                self._parsed[policy] = found
        return found

    def __len__(self) -> int:
        return len(self._parsed)
