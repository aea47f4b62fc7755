"""Turn the app config into a ``MrapSet`` (the library's construct for the whole multi-Region set, in deploy waves)
and register the checks every synth runs: AWS's deploy rules, and cdk-nag on the stacks built here.

The waves, their order and the stacks are the library's (``mrap_constructs.mrap_set``); this module only maps config
keys to the construct's props.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from constructs import Construct, IConstruct

from mrap_constructs import mrap_set as _mrap_set
from mrap_constructs._nag import ScopedNagPack
from mrap_constructs.lock import LockResult
from mrap_constructs.mrap_set import MrapSet, has_replication_stacks, stack_name_prefix
from mrap_constructs.rules import AwsDeployRules
from stacks.config import MrapConfig, default_account

__all__ = ["APP_CONTEXT", "MrapDeployment", "add_deploy_rules", "add_nag_packs", "build_app",
           "has_replication_stacks", "orphaned_stack_commands", "set_props", "stack_name_prefix"]

#: Context app.py gives its App. No creation stack traces: under jsii they never show user code ("...jsii runtime,
#: node internals..."), and capturing one per construct costs ~10 % of a 17-Region synth (``cdk --debug`` turns them
#: back on). Set here rather than in cdk.json, where the CLI warns about every reserved ``aws:`` key.
APP_CONTEXT: dict[str, object] = {"aws:cdk:disable-creation-stack-traces": True}


def set_props(config: MrapConfig) -> dict[str, Any]:
    """The ``MrapSet`` props for ``config``: each config block becomes its option group (``MrapConfig.set_options``);
    config keys are public API, and so are the construct's props."""
    options = config.set_options()
    return {
        "name": config.name,
        "regions": list(config.regions),
        "account": default_account(config),
        "home_region": config.home_region,
        "bucket_prefix": config.effective_bucket_prefix,
        "encryption": s3.BucketEncryption.KMS if config.encryption == "sse-kms" else s3.BucketEncryption.S3_MANAGED,
        "removal_policy": RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN,
        "bucket_accounts": dict(config.bucket_accounts),
        "existing_buckets": dict(config.existing_buckets),
        "existing_bucket_keys": dict(config.existing_bucket_keys),
        "bucket_account_readers": list(config.bucket_account_readers),
        "replication": options.replication,
        "monitoring": options.monitoring,
        "failover": options.failover,
        "privatelink": options.privatelink,
        "cloudfront": options.cloudfront,
        "backfill": options.backfill,
        "access_point_name": config.access_point_name,
    }


class MrapDeployment(MrapSet):
    """The ``MrapSet`` built from an app config; ``config`` is kept for reference."""

    def __init__(self, scope: Construct, id: str, *, config: MrapConfig,
                 overrides: dict[str, Any] | None = None) -> None:
        super().__init__(scope, id, **{**set_props(config), **(overrides or {})})
        self.config = config


def build_app(app: cdk.App | cdk.Stage, config: MrapConfig, *, nag: bool = True,
              overrides: dict[str, Any] | None = None) -> MrapDeployment:
    """Add the stacks for ``config`` to ``app`` (an App or a Stage).

    Args:
        app: the CDK app (or a Stage).
        config: a validated ``MrapConfig``.
        overrides: ``MrapSet`` props the deployed state implies (``stacks.day2.check``: ``kms_default_encryption``,
            ``policy_generation``). Default: none.
        nag: check the stacks built here with the cdk-nag packs (AwsSolutions, NIST 800-53 rev 5, HIPAA Security) so
            any violation fails synth; other stacks in ``app`` are not checked.
            Default: True.
    """
    deployment = MrapDeployment(app, f"{config.name}-set", config=config, overrides=overrides)
    add_deploy_rules(app)
    if nag:  # only the stacks built here: a user's other stacks in the same App are theirs to check
        # The set, not each of its stacks (its children): one walk of its tree per pack, one round trip to the jsii
        # runtime instead of one per stack.
        add_nag_packs(app, [deployment])
    return deployment


def orphaned_stack_commands(config: MrapConfig, lock: LockResult) -> list[str]:
    """``mrap_constructs.mrap_set.orphaned_stack_commands`` for ``config``'s name and Regions."""
    return _mrap_set.orphaned_stack_commands(config.name, config.regions, lock)


def add_nag_packs(app: cdk.App | cdk.Stage, scopes: list[IConstruct] | None = None) -> None:
    """Check ``scopes`` (constructs and everything below them, e.g. an ``MrapSet`` or stacks; default: everything
    in ``app``) with the cdk-nag packs AwsSolutions, NIST 800-53 rev 5 and
    HIPAA Security: any unacknowledged finding fails synth. (Unscoped, the packs walk the whole construct tree from the
    root, so registering them on the App covers the stages nested in a pipeline too.)"""
    packs = [AwsSolutionsChecks(), NIST80053R5Checks(), HIPAASecurityChecks()]
    if scopes is None:
        cdk.Validations.of(app).add_plugins(*packs)
    else:
        cdk.Validations.of(app).add_plugins(*(ScopedNagPack(pack, scopes) for pack in packs))


def add_deploy_rules(app: cdk.App | cdk.Stage) -> None:
    """Check every template of ``app`` against AWS's deploy rules (``mrap_constructs.rules``): a finding fails synth."""
    cdk.Validations.of(app).add_plugins(AwsDeployRules())
