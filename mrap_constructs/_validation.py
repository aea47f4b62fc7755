"""Collect every problem with a construct's input, then raise once (aws-cdk style)."""

from __future__ import annotations

from aws_cdk import Token


class Problems:
    """Accumulates validation problems for one construct and raises them together.

    Example:
        problems = Problems("MultiRegionAccessPoint", "Mrap")
        problems.add("name", name, "must be 3-50 characters")
        problems.raise_if_any()
    """

    def __init__(self, construct_type: str, construct_id: str) -> None:
        self._owner = f"{construct_type} {construct_id!r}"
        self._messages: list[str] = []

    def add(self, field: str, value: object, rule: str) -> None:
        """Record that ``field`` received ``value``, which breaks ``rule`` (phrased as the fix)."""
        self._messages.append(f"{field}={value!r}: {rule}")

    def __bool__(self) -> bool:
        return bool(self._messages)

    def raise_if_any(self) -> None:
        """Raise one ``ValueError`` listing every recorded problem, if any were recorded."""
        if self._messages:
            lines = "\n  - ".join(self._messages)
            raise ValueError(f"{self._owner} has invalid input:\n  - {lines}")


#: Every string token aws-cdk-lib hands out embeds this marker (``${Token[NAME.123]}``).
_STRING_TOKEN_MARKER = "${Token["


def is_unresolved(value: object) -> bool:
    """True when ``value`` is a CDK token that is only known at deploy time (skip checking it).

    Plain strings are answered in Python; only strings carrying a token marker ask the CDK (a jsii round trip).
    """
    return isinstance(value, str) and _STRING_TOKEN_MARKER in value and Token.is_unresolved(value)
