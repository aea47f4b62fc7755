"""Moved to ``mrap_runtime.smoke`` (boto3 only, no aws-cdk-lib); the same module under its earlier name."""

import sys

import mrap_runtime.smoke as _module
from mrap_runtime.smoke import *  # noqa: F403 - the names type checkers see

sys.modules[__name__] = _module
