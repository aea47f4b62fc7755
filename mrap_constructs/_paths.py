"""Construct paths as they were before ``MrapSet`` became its stacks' parent.

A few values aws-cdk-lib derives from a construct's *path* end up in templates: the ``Name`` tag of a VPC and its
subnets (``node.path``), a CloudFront origin's id (``Names.uniqueId`` of the origin's scope) and the description of a
custom-resource provider's framework function (``node.path``). Logical ids do not: they are relative to the stack.
Earlier releases put the set's stacks directly under the App (or Stage); now they sit under the ``MrapSet``, one
path segment deeper. To keep every deployed template unchanged, the constructs that produce such values ask for the
path *without* the ``MrapSet`` segment (``stable_path``) and give CDK the value it computed before.
"""

from __future__ import annotations

import hashlib
import re

from constructs import IConstruct

#: Set on an ``MrapSet``: its id is not part of its stacks' stable paths.
TRANSPARENT_ATTRIBUTE = "_mrap_transparent_scope"

# aws-cdk-lib core/lib/private/uniqueid.ts
_HIDDEN_FROM_HUMAN_ID = "Resource"
_HIDDEN_ID = "Default"
_HASH_LEN = 8
_MAX_HUMAN_LEN = 240
_MAX_ID_LEN = 255


def stable_path(construct: IConstruct) -> list[str]:
    """``construct``'s path components below the App, without the id of any transparent scope (an ``MrapSet``)."""
    return [scope.node.id for scope in construct.node.scopes[1:]
            if not getattr(scope, TRANSPARENT_ATTRIBUTE, False)]


def moved(construct: IConstruct) -> bool:
    """Whether ``construct`` sits under a transparent scope (its stable path differs from its path)."""
    return any(getattr(scope, TRANSPARENT_ATTRIBUTE, False) for scope in construct.node.scopes)


def unique_id(components: list[str]) -> str:
    """``Names.uniqueId`` of a construct at path ``components``: aws-cdk-lib's ``makeUniqueId`` (human-readable
    part of at most 240 characters, then the first 8 hex digits of the MD5 of the path, upper case)."""
    components = [c for c in components if c != _HIDDEN_ID]
    if len(components) == 1 and len(candidate := _alphanumeric(components[0])) <= _MAX_ID_LEN:
        return candidate
    digest = hashlib.md5("/".join(components).encode(), usedforsecurity=False).hexdigest()[:_HASH_LEN].upper()
    human: list[str] = []
    for component in components:  # removeDupes: drop a component the previous one ends with
        if not human or not human[-1].endswith(component):
            human.append(component)
    return "".join(_alphanumeric(c) for c in human if c != _HIDDEN_FROM_HUMAN_ID)[:_MAX_HUMAN_LEN] + digest


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)
