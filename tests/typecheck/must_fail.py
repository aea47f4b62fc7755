"""Must FAIL type-checking (scripts/typecheck.py asserts it does): ``name`` is a ``str``. Never imported or run."""

import aws_cdk as cdk

from mrap_constructs import MrapSet

MrapSet(cdk.App(), "x", name=3, regions=["us-east-1"])  # the type checker must reject name=3
