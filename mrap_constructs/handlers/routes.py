"""Moved to ``mrap_runtime.handlers.routes`` (boto3 only, no aws-cdk-lib); the same module under its earlier name."""

import sys

import mrap_runtime.handlers.routes as _module
from mrap_runtime.handlers.routes import *  # noqa: F403 - the names type checkers see

sys.modules[__name__] = _module
