"""Moved to ``mrap_runtime.cli`` (boto3 only, no aws-cdk-lib): the same module under its earlier name, and
``python -m mrap_constructs.ops.cli`` still runs the ``mrap`` command."""

import sys

import mrap_runtime.cli as _module
from mrap_runtime.cli import *  # noqa: F403 - the names type checkers see

if __name__ == "__main__":
    sys.exit(_module.main())
sys.modules[__name__] = _module
