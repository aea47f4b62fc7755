"""Moved to ``mrap_runtime.client`` (boto3 only, no aws-cdk-lib); the same module under its earlier name."""

import sys

import mrap_runtime.client as _module
from mrap_runtime.client import *  # noqa: F403 - the names type checkers see

sys.modules[__name__] = _module
