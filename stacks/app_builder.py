"""Turn a config into stacks and their dependencies: the deploy waves.

Wave 1: one ``RegionalBucketStack`` per Region (buckets, access logs, keys) — independent of each other; none for
an existing bucket.
Wave 2: one ``ReplicationStack`` per Region and the ``AccessPointStack`` — each depends on every bucket stack, none
on each other. Two waves for any number of Regions; no cycles; no cross-Region references (names are deterministic).
Wave 3, only with ``privatelink``: a ``PrivateLinkStack`` per listed Region, after the MRAP (its policy names the
alias).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import Environment, RemovalPolicy, Stack
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from mrap_constructs import (
    MultiRegionAccessPoint,
    ReplicationDestination,
    ReplicationOptions,
    bucket_name,
    replication_plan,
)
from mrap_constructs._nag import ScopedNagPack
from mrap_constructs.access_point import fingerprint
from mrap_constructs.lock import LockResult
from mrap_constructs.monitoring import AlarmThresholds
from mrap_constructs.rules import AwsDeployRules
from stacks.access_point_stack import AccessPointStack
from stacks.bucket_stack import RegionalBucketStack
from stacks.config import MrapConfig, default_account
from stacks.endpoint_stack import PrivateLinkStack
from stacks.policy_stack import RestrictedPolicyStack
from stacks.replication_stack import ReplicationStack, warn_existing_bucket

#: Context app.py gives its App. No creation stack traces: under jsii they never show user code ("...jsii runtime,
#: node internals..."), and capturing one per construct costs ~10 % of a 17-Region synth (``cdk --debug`` turns them
#: back on). Set here rather than in cdk.json, where the CLI warns about every reserved ``aws:`` key.
APP_CONTEXT: dict[str, object] = {"aws:cdk:disable-creation-stack-traces": True}

@dataclass
class MrapDeployment:
    """The stacks built for one config, by role."""

    config: MrapConfig
    bucket_stacks: dict[str, RegionalBucketStack] = field(default_factory=dict)
    replication_stacks: dict[str, ReplicationStack] = field(default_factory=dict)
    access_point_stack: AccessPointStack | None = None
    endpoint_stacks: dict[str, PrivateLinkStack] = field(default_factory=dict)
    policy_stack: RestrictedPolicyStack | None = None

    @property
    def access_point(self) -> MultiRegionAccessPoint:
        """The MRAP construct."""
        assert self.access_point_stack is not None
        return self.access_point_stack.access_point

    @property
    def stacks(self) -> list[Stack]:
        """Every stack, wave by wave."""
        return [s for wave in self.waves for s in wave]

    @property
    def waves(self) -> list[list[Stack]]:
        """Stacks grouped by deploy wave (a stack depends only on stacks of earlier waves)."""
        second: list[Stack] = [*self.replication_stacks.values()]
        if self.access_point_stack:
            second.append(self.access_point_stack)
        waves = [list(self.bucket_stacks.values()), second]
        if self.endpoint_stacks:
            waves.append(list(self.endpoint_stacks.values()))
        if self.policy_stack:
            waves.append([self.policy_stack])
        return waves


def kms_alias_name(config: MrapConfig) -> str:
    """The alias of each Region's bucket key: ``alias/{bucket_prefix}-mrap``."""
    return f"alias/{config.effective_bucket_prefix}-mrap"


def dashboard_name(config: MrapConfig) -> str:
    """The dashboard's name, ``mrap-{name}`` (in the home Region), which the replication alarms point to."""
    return f"mrap-{config.name}"


def stack_name_prefix(config: MrapConfig) -> str:
    """Stack names are ``{prefix}-bucket-{region}`` etc.; the prefix is the MRAP name, or ``mrap-{name}`` when
    the name starts with a digit (CloudFormation stack names must start with a letter)."""
    return config.name if config.name[0].isalpha() else f"mrap-{config.name}"


def has_replication_stacks(config: MrapConfig) -> bool:
    """Whether ``config`` gets replication stacks: one per Region with two or more Regions, none with one."""
    return len(config.regions) > 1


def orphaned_stack_commands(config: MrapConfig, lock: LockResult) -> list[str]:
    """Commands that delete the stacks that left the app but stay deployed (the CDK CLI never deletes a stack that
    left the app), replication stacks first (deleting one removes its bucket's replication configuration):

    * per Region the lock's replacement dropped, its replication stack, then its bucket stack (the bucket is retained
      unless ``removal_policy`` is ``destroy``);
    * with one Region left, that Region's replication stack if it had one: the lock recorded more Regions, or was
      written by a release that gave one Region a replication stack (lock version 1).
    """
    prefix = stack_name_prefix(config)
    had_replication = len(lock.previous_regions) > 1 or lock.read_version == 1
    kept: list[tuple[str, str]] = []
    if had_replication and not has_replication_stacks(config):
        kept = [("replication", region) for region in config.regions if region in lock.previous_regions]
    removed = [(kind, region) for region in lock.removed_regions for kind in ("replication", "bucket")]
    return [f"aws cloudformation delete-stack --region {region} --stack-name {prefix}-{kind}-{region}"
            for kind, region in kept + removed]


def build_app(app: cdk.App, config: MrapConfig, *, nag: bool = True) -> MrapDeployment:
    """Add the stacks for ``config`` to ``app``.

    Args:
        app: the CDK app (or a Stage).
        config: a validated ``MrapConfig``.
        nag: check the stacks built here with the cdk-nag packs (AwsSolutions, NIST 800-53 rev 5, HIPAA Security) so
            any violation fails synth; other stacks in ``app`` are not checked.
            Default: True.
    """
    account = default_account(config)
    prefix = config.effective_bucket_prefix
    removal = RemovalPolicy.DESTROY if config.removal_policy == "destroy" else RemovalPolicy.RETAIN
    kms = config.encryption == "sse-kms"
    owner = {region: config.bucket_accounts.get(region, account) for region in config.regions}
    names = {region: config.existing_buckets.get(region) or bucket_name(prefix, region, owner[region])
             for region in config.regions}
    deployment = MrapDeployment(config=config)
    stack_prefix = stack_name_prefix(config)
    cross_account = bool(config.bucket_accounts)
    role_names = {region: f"{prefix}-replication-{region}" for region in config.regions} if cross_account else {}
    plan = replication_plan(config.regions, config.replication_mode, config.replication.source_region)

    for region in config.regions:
        if region in config.existing_buckets:
            continue  # the user's bucket: nothing to create (the replication stack warns what it must have)
        sources_elsewhere = [src for src, dsts in plan.items() if region in dsts and owner[src] != owner[region]]
        deployment.bucket_stacks[region] = RegionalBucketStack(
            app,
            f"{stack_prefix}-bucket-{region}",
            env=Environment(account=owner[region], region=region),
            access_point_account=account if owner[region] != account else None,
            replication_source_roles=[f"arn:aws:iam::{owner[src]}:role/{role_names[src]}" for src in sources_elsewhere],
            bucket_name=names[region],
            kms_alias=kms_alias_name(config) if kms else None,
            access_logs=config.monitoring.access_logs,
            request_metrics=config.monitoring.request_metrics,
            removal_policy=removal,
            description=f"MRAP {config.name}: bucket in {region} (wave 1)",
        )
    buckets = list(deployment.bucket_stacks.values())

    options = ReplicationOptions(
        delete_markers=config.replication.delete_markers,
        replica_modifications=config.replication.replica_modifications,
        metrics=config.replication.metrics,
        rtc=config.replication.rtc,
        storage_class=config.replication.storage_class,
        prefix=config.replication.prefix,
        tags=dict(config.replication.tags),
    )
    thresholds = AlarmThresholds(**config.monitoring.thresholds.model_dump()) if config.monitoring.alarms else None
    replication: dict[str, tuple[str, list[ReplicationDestination]]] = {}
    # With two or more Regions every Region gets a replication stack, even with nothing to replicate: its custom
    # resource then removes the bucket's configuration, so switching mode (full-mesh -> one-way -> none) converges.
    # A one-Region MRAP has nothing to replicate under any mode, and its Regions cannot change without replacing the
    # MRAP: no replication stacks (a replacement prints the commands that delete the ones it leaves behind).
    for source in config.regions:
        destinations = [
            ReplicationDestination(
                region=dst,
                bucket_name=names[dst],
                account=owner[dst] if cross_account else None,
                replica_kms_key_arn=_kms_alias_arn(config, dst, account) if config.replication_kms else None,
            )
            for dst in plan.get(source, [])
        ]
        replication[source] = (names[source], destinations)
        if not has_replication_stacks(config):
            continue
        stack = ReplicationStack(
            app,
            f"{stack_prefix}-replication-{source}",
            env=Environment(account=owner[source], region=source),
            source_bucket_name=names[source],
            role_name=role_names.get(source),
            existing_bucket=source in config.existing_buckets,
            destinations=destinations,
            options=options,
            source_kms_key_arn=_kms_alias_arn(config, source, account) if config.replication_kms else None,
            alarms=thresholds if config.replication.metrics else None,
            alarm_email=config.monitoring.alarm_email,
            alarms_per_rule=config.monitoring.alarms_per_rule,
            dashboard_name=dashboard_name(config) if config.monitoring.dashboard else None,
            dashboard_region=config.home_region if config.monitoring.dashboard else None,
            description=f"MRAP {config.name}: replication from {source} (wave 2)",
        )
        _depends_on_all(stack, buckets)
        deployment.replication_stacks[source] = stack

    deployment.access_point_stack = AccessPointStack(
        app,
        f"{stack_prefix}-access-point",
        env=Environment(account=account, region=config.home_region),
        mrap_name=config.name,
        bucket_names=names,
        bucket_accounts={r: a for r, a in config.bucket_accounts.items() if a != account},
        removal_policy=removal,
        failover_active=config.failover.active if config.failover else None,
        failover_passive=config.failover.passive if config.failover else None,
        routes_region=config.failover.routes_region if config.failover else None,
        dashboard_replication=replication if config.monitoring.dashboard else None,
        dashboard_name=dashboard_name(config),
        request_metric_buckets=names if config.monitoring.request_metrics else None,
        cloudtrail_buckets=names if config.monitoring.cloudtrail else None,
        policy=not (config.privatelink and config.privatelink.restrict_to_endpoints),
        description=f"MRAP {config.name}: the Multi-Region Access Point and its policy (wave 2)",
    )
    _depends_on_all(deployment.access_point_stack, buckets)
    if not has_replication_stacks(config):  # the replication stacks' warning, where there are none
        for existing in config.existing_buckets.values():
            warn_existing_bucket(deployment.access_point_stack, existing, replication_replaced=False)

    if config.privatelink:
        # Wave 3: the endpoint policy names the MRAP by its alias, which exists once wave 2 is done. The lookups of
        # the alias and of the endpoint ids run again whenever what they read may have been replaced.
        mrap_key = deployment.access_point.replacement_fingerprint
        endpoint_keys = {region: fingerprint([config.privatelink.vpc_cidr,
                                              config.privatelink.availability_zones.get(region)])
                         for region in config.privatelink.regions}
        for region in config.privatelink.regions:
            stack = PrivateLinkStack(
                app, f"{stack_prefix}-privatelink-{region}", env=Environment(account=account, region=region),
                mrap_name=config.name, bucket_names=[names[r] for r in config.regions],
                vpc_cidr=config.privatelink.vpc_cidr,
                availability_zones=config.privatelink.availability_zones.get(region), mrap_refresh_key=mrap_key,
                description=f"MRAP {config.name}: VPC and PrivateLink endpoint in {region} (wave 3)",
            )
            stack.add_stack_dependency(deployment.access_point_stack, "the endpoint policy names the MRAP's alias")
            deployment.endpoint_stacks[region] = stack
        if config.privatelink.restrict_to_endpoints:
            # Wave 4: the policy names the endpoint ids, which exist once wave 3 is done.
            deployment.policy_stack = RestrictedPolicyStack(
                app, f"{stack_prefix}-access-point-policy", env=Environment(account=account, region=config.home_region),
                mrap_name=config.name, endpoint_regions=config.privatelink.regions,
                mrap_refresh_key=mrap_key, endpoint_refresh_keys=endpoint_keys,
                description=f"MRAP {config.name}: the MRAP policy, only through the PrivateLink endpoints (wave 4)",
            )
            for stack in deployment.endpoint_stacks.values():
                deployment.policy_stack.add_stack_dependency(stack, "the policy names the endpoint ids")

    add_deploy_rules(app)
    if nag:  # only the stacks built here: a user's other stacks in the same App are theirs to check
        add_nag_packs(app, deployment.stacks)
    return deployment


def add_nag_packs(app: cdk.App | cdk.Stage, scopes: list[Stack] | None = None) -> None:
    """Check ``scopes`` (default: everything in ``app``) with the cdk-nag packs AwsSolutions, NIST 800-53 rev 5 and
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


def build_pipeline(app: cdk.App, config: MrapConfig, *, nag: bool = True) -> Stack:
    """The many-accounts path: a CDK Pipelines stack deploying the setup to every ``pipeline.accounts`` account.

    Args:
        nag: check the pipeline and every stage with the cdk-nag packs (see ``add_nag_packs``). Default: True.
    """
    from stacks.pipeline_stack import PipelineStack

    assert config.pipeline is not None
    stack = PipelineStack(app, f"{stack_name_prefix(config)}-pipeline", config=config,
                          env=Environment(account=config.pipeline.account, region=config.pipeline.region))
    add_deploy_rules(app)
    if nag:
        add_nag_packs(app)
    return stack


def _kms_alias_arn(config: MrapConfig, region: str, account: str | None) -> str:
    return f"arn:aws:kms:{region}:{account or cdk.Aws.ACCOUNT_ID}:{kms_alias_name(config)}"


def _depends_on_all(stack: Stack, dependencies: list[Stack]) -> None:
    for dependency in dependencies:
        stack.add_stack_dependency(dependency, "buckets must exist before replication rules and the MRAP name them")
