"""Strict AWS rules for the emulator: what AWS rejects, moto 5.2.5 (pinned) accepts, so a deploy that fails in AWS
would pass locally. Each module models one AWS behaviour family, cites its AWS source, and wraps the moto backend
method (not the HTTP layer), so direct boto3 calls, the moto server and CloudFormation deploys (models and in-process
custom resources) all meet the same rule. ``mrap_api_regions`` is the exception: the Region a request is sent to
exists only in the HTTP layer.

Installed by ``patches.installed(state)`` (undone on exit); the wrapped moto functions are kept in
``Installation.originals``
under the keys each module's ``install`` documents. See ``docs/emulator-strictness.md`` for the table of rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mrap_constructs.testing.strict import (
    alarm_actions_kms,
    cloudtrail_kms,
    cross_account_reads,
    mrap_api_regions,
    mrap_create,
    policy_principals,
    s3_replication,
)

#: name -> install(originals): each installs its wrappers once and records what it replaced in ``originals``.
RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "strict_s3_replication": s3_replication.install,
    "strict_policy_principals": policy_principals.install,
    "strict_cloudtrail_kms": cloudtrail_kms.install,
    "strict_alarm_actions_kms": alarm_actions_kms.install,
    "strict_mrap_create": mrap_create.install,
    "strict_cross_account_reads": cross_account_reads.install,
    "strict_mrap_api_regions": mrap_api_regions.install,
}

__all__ = ["RULES"]
