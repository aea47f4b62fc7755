"""Moved to ``mrap_runtime.regions`` (boto3 only, no aws-cdk-lib); the same module under its earlier name."""

import sys

import mrap_runtime.regions as _module
from mrap_runtime.regions import *  # noqa: F403 - the names type checkers see

sys.modules[__name__] = _module
