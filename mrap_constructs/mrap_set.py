"""The whole multi-Region set from one construct: buckets, replication, the MRAP and, optionally, routes, PrivateLink
and monitoring, as stacks in the right deploy waves.

Wave 1: one ``RegionalBucketStack`` per Region (buckets, access logs, keys) — independent of each other; none for an
existing bucket. Wave 2: one ``ReplicationStack`` per Region and the ``AccessPointStack`` — each depends on every
bucket stack, none on each other (S3 rejects a replication rule whose destination does not exist yet, so rules are
applied after every bucket exists: a full mesh is no dependency cycle). Wave 3, only with PrivateLink: a
``PrivateLinkStack`` per listed Region, after the MRAP (its endpoint policy names the alias); with ``backfill``, a
``BackfillStack`` per bucket holding data, after that bucket's replication stack (S3 Batch Replication replicates
with the rules in place) and after the MRAP (whose routes resource has made the empty Regions passive). Wave 4, only
with ``restrict_to_endpoints``: the MRAP policy naming the endpoint ids. No cross-Region references: names are
deterministic.

With CloudFront, wave 3 also holds a ``CloudFrontStack`` (us-east-1, the MRAP's account). The ordering problem: the
distribution's origin needs the MRAP alias (known after wave 2), and the MRAP policy must name the distribution's ARN
(``AWS:SourceArn``), whose id CloudFront generates (not deterministic, so it cannot be written in wave 2). So the MRAP
policy moves out of the access-point stack into the CloudFront stack, as it moves into wave 4 with
``restrict_to_endpoints``: that stack reads the alias at deploy time (``MultiRegionAccessPoint.from_name`` with the
MRAP's replacement fingerprint as refresh key), creates the distribution, and writes the whole MRAP policy (the owning
account's principals, and CloudFront for this distribution only), which references the distribution in the same stack,
so CloudFormation writes it after the distribution exists. Between the two waves same-account principals keep access
through their IAM policies (same-account requests need no MRAP policy). SSE-KMS keys (wave 1) admit CloudFront for the
account's distributions (``mrap_constructs.cloudfront.admit_cloudfront``): no key policy can name a distribution that
does not exist yet, and the MRAP policy is what admits only this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Aws, Environment, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs._validation import Problems
from mrap_constructs.access_point import MultiRegionAccessPoint, fingerprint
from mrap_constructs.backfill import DEFAULT_BACKFILL_KEY
from mrap_constructs.cloudfront import cloudfront_problems
from mrap_constructs.lock import LockResult
from mrap_constructs.monitoring.alarms import AlarmThresholds
from mrap_constructs.naming import (
    account_problem,
    bucket_name,
    bucket_name_problem,
    bucket_prefix_problem,
    mrap_name_problem,
    region_partition,
)
from mrap_constructs.regions import CONTROL_PLANE_REGION, SUPPORTED_REGIONS, state_reader_role_name, suggest_region
from mrap_constructs.replication import ReplicationDestination, ReplicationMode, ReplicationOptions, replication_plan
from mrap_constructs.stacks import (
    AccessPointStack,
    BackfillStack,
    CloudFrontStack,
    PrivateLinkStack,
    RegionalBucketStack,
    ReplicationStack,
    RestrictedPolicyStack,
    warn_existing_bucket,
)
from mrap_constructs.stacks.cloudfront import CLOUDFRONT_STACK_REGION

#: The VPC range of a PrivateLink stack when none is given.
DEFAULT_VPC_CIDR = "10.20.0.0/16"


def stack_name_prefix(name: str) -> str:
    """Stack names are ``{prefix}-bucket-{region}`` etc.; the prefix is the MRAP name, or ``mrap-{name}`` when the
    name starts with a digit (CloudFormation stack names must start with a letter)."""
    return name if name[0].isalpha() else f"mrap-{name}"


def has_replication_stacks(regions: Sequence[str]) -> bool:
    """Whether a set over ``regions`` gets replication stacks: one per Region with two or more Regions, none with one
    (a one-Region MRAP replicates nowhere, and its Regions cannot change without replacing it)."""
    return len(regions) > 1


def orphaned_stack_commands(name: str, regions: Sequence[str], lock: LockResult) -> list[str]:
    """Commands that delete the stacks that left the set but stay deployed (the CDK CLI never deletes a stack that
    left the app), replication stacks first (deleting one removes its bucket's replication configuration):

    * per Region the lock's replacement dropped, its replication stack, then its bucket stack (the bucket is retained
      unless the removal policy is destroy);
    * with one Region left, that Region's replication stack if it had one: the lock recorded more Regions, or was
      written by a release that gave one Region a replication stack (lock version 1).
    """
    prefix = stack_name_prefix(name)
    had_replication = len(lock.previous_regions) > 1 or lock.read_version == 1
    kept: list[tuple[str, str]] = []
    if had_replication and not has_replication_stacks(regions):
        kept = [("replication", region) for region in regions if region in lock.previous_regions]
    removed = [(kind, region) for region in lock.removed_regions for kind in ("replication", "bucket")]
    return [f"aws cloudformation delete-stack --region {region} --stack-name {prefix}-{kind}-{region}"
            for kind, region in kept + removed]


def set_problems(*, regions: Sequence[str], account: str | None, bucket_accounts: Mapping[str, str],
                 existing_buckets: Mapping[str, str], encryption: object, kms: bool,
                 existing_bucket_keys: Mapping[str, str] | None = None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for every inconsistency between the Regions, accounts and existing buckets of a set:
    the one statement of these rules, for ``MrapSet`` and the app config alike. ``encryption`` is shown as given."""
    found: list[tuple[str, object, str]] = []
    keys = dict(existing_bucket_keys or {})
    for key, mapping in (("bucket_accounts", bucket_accounts), ("existing_buckets", existing_buckets)):
        for region, value in mapping.items():
            if region not in regions:
                found.append((f"{key}[{region!r}]", value,
                              f"names {region}, which is not one of regions {list(regions)}"))
    for region, owner in bucket_accounts.items():
        if why := account_problem(owner):
            found.append((f"bucket_accounts[{region!r}]", owner, why))
    if bucket_accounts and account is None:
        found.append(("account", account, "bucket_accounts needs the MRAP's account, which the other accounts' bucket "
                                          "policies name"))
    # SSE-KMS across accounts is supported: each destination key's policy admits the other accounts' replication
    # roles (mrap_constructs.stacks.bucket), as "Granting additional permissions for cross-account scenarios" asks.
    found += existing_key_problems(existing_buckets=existing_buckets, existing_bucket_keys=keys, kms=kms)
    for region in sorted(set(bucket_accounts) & set(existing_buckets)):
        found.append((f"existing_buckets[{region!r}]", existing_buckets[region],
                      "also in bucket_accounts: an existing bucket is used as it is; give one or the other"))
    for region, existing in existing_buckets.items():
        if why := bucket_name_problem(existing):
            found.append((f"existing_buckets[{region!r}]", existing, why))
    return found


#: A KMS key ARN (or alias ARN) as ``existing_bucket_keys`` takes it: partition, Region, account, key/ or alias/.
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key|alias)/[A-Za-z0-9/_+=.@-]+$")


def existing_key_problems(*, existing_buckets: Mapping[str, str], existing_bucket_keys: Mapping[str, str],
                          kms: bool) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for the KMS keys of adopted buckets: with SSE-KMS each existing bucket's own key must
    be named (its replication and backfill roles decrypt with it, and replicas into it are encrypted with it: S3 User
    Guide "Replicating encrypted objects"), as a key or alias ARN in the bucket's Region."""
    found: list[tuple[str, object, str]] = []
    for region, arn in sorted(existing_bucket_keys.items()):
        if region not in existing_buckets:
            found.append((f"existing_bucket_keys[{region!r}]", arn,
                          "names a Region without an existing bucket (existing_buckets); drop it"))
            continue
        match = _KMS_KEY_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            found.append((f"existing_bucket_keys[{region!r}]", arn,
                          "give the key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or alias ARN of the key that encrypts "
                          "the bucket's objects"))
        elif match.group(1) != region:
            found.append((f"existing_bucket_keys[{region!r}]", arn,
                          f"is a key in {match.group(1)}; S3 encrypts a bucket's objects with a key of the bucket's "
                          f"Region ({region})"))
    if kms:
        for region, bucket in sorted(existing_buckets.items()):
            if region not in existing_bucket_keys:
                found.append((f"existing_bucket_keys[{region!r}]", None,
                              f"encryption sse-kms with the existing bucket {bucket}: give the ARN of the KMS key that "
                              "encrypts its objects (arn:aws:kms:" + region + ":ACCOUNT:key/ID); the replication and "
                              "backfill roles get kms:Decrypt on it, else its SSE-KMS objects never replicate"))
    return found


def filter_problems(*, regions: Sequence[str], plan: Mapping[str, Sequence[str]], prefix: str,
                    tags: Mapping[str, str], active: Sequence[str] | None, acknowledged: bool,
                    names: Mapping[str, str] | None = None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` when filtered replication (a prefix or tags) meets two or more active Regions.

    An MRAP routes each request to an active Region without checking that the object is in that Region's bucket
    (S3 User Guide, "Multi-Region Access Point request routing"), so an object outside the filter, written in one
    Region, answers 404 whenever a request lands on another active Region. ``names`` maps ``prefix``, ``tags``,
    ``active`` and ``acknowledge`` to the caller's field names (default: the app config's keys)."""
    keys = {"prefix": "replication.prefix", "tags": "replication.tags", "active": "failover.active",
            "acknowledge": "replication.acknowledge_filtered_404s", **(names or {})}
    if acknowledged or not any(plan.values()) or not (prefix or tags):
        return []
    serving = list(active) if active is not None else list(regions)
    if len(serving) < 2:
        return []
    field, value = (keys["prefix"], prefix) if prefix else (keys["tags"], dict(tags))
    return [(field, value,
             f"filtered replication with {len(serving)} active Regions ({keys['active']}: {sorted(serving)}): an MRAP "
             "routes a request to an active Region without checking the object is there, so an object outside the "
             "filter 404s whenever a request lands on a Region it was not written in; keep one active Region "
             f"({keys['active']}), or drop the filter, or set {keys['acknowledge']}: true to accept it")]


def unreplicated_active_problems(*, plan: Mapping[str, Sequence[str]], failover_active: Sequence[str] | None,
                                 accept: bool) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` when failover makes a Region active whose writes replicate nowhere while other Regions
    replicate (``one-way`` from another source): the only copy of what is written there stays there, and the other
    Regions never see it. For ``MrapSet`` and the app config alike (the config names the keys ``failover.active`` and
    ``replication.source_region``; ``failover.accept_unreplicated_writes`` acknowledges it)."""
    if accept or failover_active is None or not any(plan.values()):
        return []
    sources = sorted(src for src, dsts in plan.items() if dsts)
    stranded = [r for r in failover_active if not plan.get(r)]
    if not stranded:
        return []
    return [("failover_active", list(failover_active),
             f"{stranded} active but replicating nowhere: replication is one-way from {sources} "
             f"(replication_source_region), so writes routed to {', '.join(stranded)} are never replicated and the "
             "other Regions never see them. Make the source active (or use full-mesh), or acknowledge with "
             "accept_unreplicated_writes")]


def backfill_sources(*, existing_buckets: Mapping[str, str], plan: Mapping[str, Sequence[str]],
                     backfill: bool | None) -> list[str]:
    """The Regions whose buckets get a backfill job: those holding data (``existing_buckets``) with replication
    rules. ``backfill`` None (the default) means on when there is such a Region; False, none."""
    if backfill is False:
        return []
    return sorted(region for region in existing_buckets if plan.get(region))


def backfill_problems(*, existing_buckets: Mapping[str, str], plan: Mapping[str, Sequence[str]],
                      backfill: bool | None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for a ``backfill`` that cannot work, for ``MrapSet`` and the app config alike."""
    if backfill is not True:
        return []
    if not existing_buckets:
        return [("backfill", True, "needs a bucket holding data: list it in existing_buckets (a new bucket starts "
                                   "empty, so there is nothing to backfill), or drop backfill")]
    if not backfill_sources(existing_buckets=existing_buckets, plan=plan, backfill=True):
        return [("backfill", True, f"the buckets holding data ({', '.join(sorted(existing_buckets))}) replicate "
                                   "nowhere with this replication mode; replicate from them (full-mesh, or one-way "
                                   "with one of them as source_region), or drop backfill")]
    return []


class MrapSet(Construct):
    """Everything an MRAP needs across Regions, as stacks in deploy waves: ``cdk deploy --all`` works on a fresh
    account in one command.

    The stacks are added to ``scope`` (an App or a Stage), not under this construct, so their artifact ids are their
    stack names — what ``cdk deploy NAME`` selects and what ``mrap.lock.json``'s replacement commands name.

    Default settings: versioned, private, TLS-only buckets named ``{bucket_prefix}-{account}-{region}`` with SSE-S3,
    access logs and ``RETAIN``; a full mesh with delete-marker replication, replica-modification sync and metrics;
    replication alarms per source bucket to a topic under a customer managed key; a dashboard in the home Region; an
    MRAP policy admitting the MRAP account's principals; everything checked by cdk-nag only if you register it.

    Args:
        scope: an App or a Stage.
        id: construct id.
        name: the MRAP name (3-50 lowercase letters, digits, hyphens); also names the stacks.
        access_point_name: the MRAP's own name when it differs from ``name`` (the stacks keep ``name``): give a new
            one to replace the MRAP blue/green — CloudFormation creates the new MRAP beside the old one (kept: its
            UpdateReplacePolicy is Retain) over the same buckets; move clients to the new alias, then delete the old
            MRAP. Changing the Regions (or the buckets) of a deployed MRAP needs a new name: CloudFormation cannot
            replace a custom-named resource under the same name. Default: ``name``.
        regions: the MRAP's Regions, one bucket each (1-17).
        account: the MRAP's account. Default: the deploying account (``AWS::AccountId``). Required with
            ``bucket_accounts``.
        home_region: where the MRAP, its policy and the dashboard stacks live. Default: us-west-2 (the control plane).
        bucket_prefix: prefix of the bucket names. Default: ``name``.
        encryption: ``S3_MANAGED`` or ``KMS`` (a rotating key per Region, alias ``alias/{bucket_prefix}-mrap``).
            Default: ``S3_MANAGED``.
        removal_policy: for buckets, keys and the MRAP. Default: ``RETAIN``.
        replication_mode: ``full-mesh``, ``one-way`` or ``none``. Default: full mesh.
        replication_source_region: the source of ``one-way``. Default: the first Region.
        replication_options: rule settings. Default: ``ReplicationOptions()``.
        replication_kms: replicate SSE-KMS objects (re-encrypted with each destination's key). Default: whether
            ``encryption`` is ``KMS``.
        bucket_accounts: ``{region: account}`` for buckets owned by other accounts. Default: none.
        existing_buckets: ``{region: bucket name}`` to use instead of creating a bucket. Default: none.
        failover_active: Regions receiving traffic (routing dials 100); the rest stand by. Default: no routes resource
            (every Region active).
        failover_passive: Regions standing by. Default: every Region not in ``failover_active``.
        routes_region: where to call the routes API. Default: one of the Regions that serves it.
        alarms: replication alarm thresholds, or None for no alarms. Default: ``AlarmThresholds()`` (needs
            ``replication_options.metrics``; without metrics no alarms are created).
        alarm_email: subscribe this address to each alarm topic. Default: none.
        alarms_per_rule: one alarm per rule and kind instead of per source bucket. Default: False.
        dashboard: a CloudWatch dashboard in the home Region. Default: True.
        access_logs: S3 server access logs to a log bucket per Region. Default: True.
        request_metrics: CloudWatch request metrics per bucket. Default: False.
        cloudtrail: a data-events trail on the buckets. Default: False.
        privatelink_regions: Regions that get a VPC and an interface endpoint (wave 3). Default: none.
        privatelink_vpc_cidr: their VPC range. Default: ``10.20.0.0/16``.
        privatelink_availability_zones: ``{region: [az, az]}`` (avoids a lookup). Default: looked up.
        restrict_to_endpoints: the MRAP policy denies data access not through the endpoints (wave 4). Default: False.
        cloudfront: a CloudFront distribution in front of the MRAP (wave 3, us-east-1; see ``MrapDistribution``),
            which then holds the MRAP policy. Default: False. Not with ``restrict_to_endpoints`` nor opt-in Regions.
        cloudfront_price_class: ``PriceClass_100``, ``PriceClass_200`` or ``PriceClass_All``.
            Default: ``PriceClass_All``.
        cloudfront_default_root_object: the object served for ``/``. Default: none.
        cloudfront_domain_names: alternate domain names. Default: none.
        cloudfront_certificate_arn: ACM certificate (us-east-1) for the domain names. Default: none.
        cloudfront_logging: standard access logs to a new bucket. Default: True.
        cloudfront_web_acl_id: an AWS WAF web ACL for the distribution. Default: none.
        backfill: copy what the buckets holding data (``existing_buckets``) held before replication with an S3 Batch
            Replication job per such bucket (wave 3), and start the other Regions passive until ``mrap activate``.
            Default: on when an existing bucket replicates somewhere.
        backfill_key: names the backfill; a new key starts new jobs. Default: ``"initial"``.
        failover_require_in_sync: a deploy that activates a Region fails while its replication backlog is not empty.
            Default: True.
        accept_unreplicated_writes: allow ``one-way`` replication with ``failover_active`` naming a Region other than
            the source (writes routed there never replicate anywhere). Default: False (a ``ValueError`` naming both).
        kms_default_encryption: with ``KMS``, make the keys the buckets' default encryption. False creates the keys
            and lets the rules replicate SSE-KMS objects but leaves the buckets' default encryption SSE-S3: the first
            of two deploys switching a deployed set to SSE-KMS, so the rules select KMS objects before any bucket
            encrypts with KMS (S3 replicates SSE-KMS objects only when a rule selects them:
            https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
            Default: True.
        policy_generation: a counter that changes the MRAP policy's statement ids (``Sid`` suffix ``G{n}``) when the
            stack owning the policy changes (``restrict_to_endpoints`` or ``cloudfront`` toggled): the new owner then
            always rewrites the policy, even when its stack is still deployed with the template it had before (the
            CDK CLI skips a stack whose template is unchanged). The app keeps it in the lock. Default: 0 (no suffix).

    Attributes:
        access_point (the ``MultiRegionAccessPoint``), bucket_names, bucket_stacks, replication_stacks,
        access_point_stack, endpoint_stacks, backfill_stacks, backfill_regions, empty_regions, policy_stack (or
        None), cloudfront_stack (or None), waves, stacks.

    Raises:
        ValueError: listing every invalid input (name, Regions, accounts, bucket names, failover, PrivateLink).

    Example:
        app = cdk.App()
        media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1"], account="111122223333",
                        failover_active=["us-east-1"])
        media.access_point.grant_read(reader_role)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        regions: Sequence[str],
        account: str | None = None,
        home_region: str = CONTROL_PLANE_REGION,
        bucket_prefix: str | None = None,
        encryption: s3.BucketEncryption = s3.BucketEncryption.S3_MANAGED,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        replication_mode: ReplicationMode | str = ReplicationMode.FULL_MESH,
        replication_source_region: str | None = None,
        replication_options: ReplicationOptions = ReplicationOptions(),
        replication_kms: bool | None = None,
        bucket_accounts: Mapping[str, str] | None = None,
        existing_buckets: Mapping[str, str] | None = None,
        existing_bucket_keys: Mapping[str, str] | None = None,
        bucket_account_readers: Sequence[str] = (),
        acknowledge_filtered_404s: bool = False,
        cloudtrail_management_events: bool = False,
        failover_active: Sequence[str] | None = None,
        failover_passive: Sequence[str] | None = None,
        routes_region: str | None = None,
        alarms: AlarmThresholds | None = AlarmThresholds(),
        alarm_email: str | None = None,
        alarms_per_rule: bool = False,
        dashboard: bool = True,
        access_logs: bool = True,
        request_metrics: bool = False,
        cloudtrail: bool = False,
        privatelink_regions: Sequence[str] = (),
        privatelink_vpc_cidr: str = DEFAULT_VPC_CIDR,
        privatelink_availability_zones: Mapping[str, Sequence[str]] | None = None,
        restrict_to_endpoints: bool = False,
        backfill: bool | None = None,
        backfill_key: str = DEFAULT_BACKFILL_KEY,
        failover_require_in_sync: bool = True,
        cloudfront: bool = False,
        cloudfront_price_class: str = "PriceClass_All",
        cloudfront_default_root_object: str | None = None,
        cloudfront_domain_names: Sequence[str] = (),
        cloudfront_certificate_arn: str | None = None,
        cloudfront_logging: bool = True,
        cloudfront_web_acl_id: str | None = None,
        access_point_name: str | None = None,
        accept_unreplicated_writes: bool = False,
        kms_default_encryption: bool = True,
        policy_generation: int = 0,
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        #: The MRAP's own name (``access_point_name``, default ``name``); the stacks are named after ``name``.
        self.access_point_name: str = access_point_name or name
        self.kms_default_encryption = kms_default_encryption
        self.policy_generation = policy_generation
        self.regions: list[str] = list(regions)
        self.home_region = home_region
        self.bucket_prefix = bucket_prefix or name
        self.bucket_accounts: dict[str, str] = dict(bucket_accounts or {})
        self.existing_buckets: dict[str, str] = dict(existing_buckets or {})
        #: ``{region: key ARN}``: the KMS key of each adopted SSE-KMS bucket.
        self.existing_bucket_keys: dict[str, str] = dict(existing_bucket_keys or {})
        self.bucket_account_readers: list[str] = list(bucket_account_readers)
        self.plan = replication_plan(self.regions, replication_mode, replication_source_region)
        self._validate(id, account, encryption, privatelink_regions, restrict_to_endpoints, backfill)
        problems = Problems("MrapSet", id)
        for field, value, rule in filter_problems(
                regions=self.regions, plan=self.plan, prefix=replication_options.prefix,
                tags=replication_options.tags, active=failover_active, acknowledged=acknowledge_filtered_404s,
                names={"prefix": "replication_options.prefix", "tags": "replication_options.tags",
                       "active": "failover_active", "acknowledge": "acknowledge_filtered_404s"}):
            problems.add(field, value, rule)
        for field, value, rule in unreplicated_active_problems(
                plan=self.plan, failover_active=failover_active, accept=accept_unreplicated_writes):
            problems.add(field, value, rule)
        if access_point_name is not None and (why := mrap_name_problem(access_point_name)):
            problems.add("access_point_name", access_point_name, why)
        if policy_generation < 0:
            problems.add("policy_generation", policy_generation, "give 0 or more")
        problems.raise_if_any()
        if cloudfront:
            problems = Problems("MrapSet", id)
            for field, value, rule in cloudfront_problems(
                    regions=self.regions, domain_names=list(cloudfront_domain_names),
                    certificate_arn=cloudfront_certificate_arn, price_class=cloudfront_price_class,
                    restrict_to_endpoints=restrict_to_endpoints):
                problems.add(field if field in ("regions", "restrict_to_endpoints") else f"cloudfront_{field}",
                             value, rule)
            problems.raise_if_any()
        self.cloudfront = cloudfront
        self.account = account
        self.stack_prefix = stack_name_prefix(name)
        self.removal_policy = removal_policy
        self.kms = encryption == s3.BucketEncryption.KMS
        self.replication_kms = self.kms if replication_kms is None else replication_kms
        self.owners: dict[str, str | None] = {r: self.bucket_accounts.get(r, account) for r in self.regions}
        self.bucket_names: dict[str, str] = {
            r: self.existing_buckets.get(r) or bucket_name(self.bucket_prefix, r, self.owners[r]) for r in self.regions}
        self.dashboard_name = f"mrap-{name}"
        #: Regions whose bucket gets a backfill job, and the Regions they fill (passive until activated).
        self.backfill_regions: list[str] = backfill_sources(existing_buckets=self.existing_buckets, plan=self.plan,
                                                            backfill=backfill)
        self.empty_regions: list[str] = sorted({dst for src in self.backfill_regions for dst in self.plan[src]}
                                               - set(self.existing_buckets))

        self.bucket_stacks: dict[str, RegionalBucketStack] = {}
        self.replication_stacks: dict[str, ReplicationStack] = {}
        self.endpoint_stacks: dict[str, PrivateLinkStack] = {}
        self.backfill_stacks: dict[str, BackfillStack] = {}
        self.policy_stack: RestrictedPolicyStack | None = None
        self.cloudfront_stack: CloudFrontStack | None = None

        self._bucket_wave(scope, access_logs=access_logs, request_metrics=request_metrics)
        replication = self._replication_wave(
            scope, options=replication_options, alarms=alarms if replication_options.metrics else None,
            alarm_email=alarm_email, alarms_per_rule=alarms_per_rule, dashboard=dashboard)
        self.access_point_stack: AccessPointStack = self._access_point_wave(
            scope, failover_active=failover_active, failover_passive=failover_passive, routes_region=routes_region,
            dashboard_replication=replication if dashboard else None, request_metrics=request_metrics,
            cloudtrail=cloudtrail, policy=not (restrict_to_endpoints or cloudfront),
            require_in_sync=failover_require_in_sync, cloudtrail_management_events=cloudtrail_management_events)
        self._backfill_wave(scope, key=backfill_key)
        if privatelink_regions:
            self._privatelink_waves(scope, regions=list(privatelink_regions), vpc_cidr=privatelink_vpc_cidr,
                                    availability_zones=dict(privatelink_availability_zones or {}),
                                    restrict=restrict_to_endpoints)
        if cloudfront:
            self._cloudfront_wave(scope, price_class=cloudfront_price_class,
                                  default_root_object=cloudfront_default_root_object,
                                  domain_names=list(cloudfront_domain_names),
                                  certificate_arn=cloudfront_certificate_arn, logging=cloudfront_logging,
                                  web_acl_id=cloudfront_web_acl_id)

    # --- the waves -----------------------------------------------------------------------------------------------

    def _bucket_wave(self, scope: Construct, *, access_logs: bool, request_metrics: bool) -> None:
        role_names = self.replication_role_names
        for region in self.regions:
            if region in self.existing_buckets:
                continue  # the user's bucket: nothing to create (the replication stack warns what it must have)
            owner = self.owners[region]
            sources_elsewhere = [src for src, dsts in self.plan.items()
                                 if region in dsts and self.owners[src] != owner]
            self.bucket_stacks[region] = RegionalBucketStack(
                scope, f"{self.stack_prefix}-bucket-{region}", env=Environment(account=owner, region=region),
                access_point_account=self.account if owner != self.account else None,
                replication_source_roles=[f"arn:{region_partition(src)}:iam::{self.owners[src]}:role/{role_names[src]}"
                                          for src in sources_elsewhere],
                bucket_name=self.bucket_names[region],
                kms_alias=self.kms_alias_name if self.kms else None,
                kms_default_encryption=self.kms_default_encryption,
                access_logs=access_logs, request_metrics=request_metrics, removal_policy=self.removal_policy,
                cloudfront_account=(self.account or Aws.ACCOUNT_ID) if self.cloudfront and self.kms else None,
                state_reader_role_name=(state_reader_role_name(self.bucket_prefix, region)
                                        if owner != self.account else None),
                state_reader_principals=self.state_reader_principals,
                description=f"MRAP {self.name}: bucket in {region} (wave 1)",
            )

    def _replication_wave(self, scope: Construct, *, options: ReplicationOptions, alarms: AlarmThresholds | None,
                          alarm_email: str | None, alarms_per_rule: bool,
                          dashboard: bool) -> dict[str, tuple[str, list[ReplicationDestination]]]:
        cross_account = bool(self.bucket_accounts)
        role_names = self.replication_role_names
        replication: dict[str, tuple[str, list[ReplicationDestination]]] = {}
        # With two or more Regions every Region gets a replication stack, even with nothing to replicate: its custom
        # resource then removes the bucket's configuration, so switching mode (full-mesh -> one-way -> none)
        # converges. A one-Region MRAP gets none (a replacement prints the commands that delete the ones it leaves).
        for source in self.regions:
            destinations = [
                ReplicationDestination(
                    region=dst, bucket_name=self.bucket_names[dst],
                    account=self.owners[dst] if cross_account else None,
                    replica_kms_key_arn=self._bucket_key_arn(dst) if self.replication_kms else None,
                    # A bucket the set creates is BucketOwnerEnforced: its owner owns the replicas without the
                    # owner override (ReplicationDestination.owner_enforced).
                    owner_enforced=dst not in self.existing_buckets,
                )
                for dst in self.plan.get(source, [])
            ]
            replication[source] = (self.bucket_names[source], destinations)
            if not has_replication_stacks(self.regions):
                continue
            stack = ReplicationStack(
                scope, f"{self.stack_prefix}-replication-{source}",
                env=Environment(account=self.owners[source], region=source),
                source_bucket_name=self.bucket_names[source], role_name=role_names.get(source),
                existing_bucket=source in self.existing_buckets, destinations=destinations, options=options,
                source_kms_key_arn=self._bucket_key_arn(source) if self.replication_kms else None,
                alarms=alarms, alarm_email=alarm_email, alarms_per_rule=alarms_per_rule,
                dashboard_name=self.dashboard_name if dashboard else None,
                dashboard_region=self.home_region if dashboard else None,
                description=f"MRAP {self.name}: replication from {source} (wave 2)",
            )
            self._after_buckets(stack)
            self.replication_stacks[source] = stack
        return replication

    def _access_point_wave(self, scope: Construct, *, failover_active: Sequence[str] | None,
                           failover_passive: Sequence[str] | None, routes_region: str | None,
                           dashboard_replication: Mapping[str, tuple[str, Sequence[ReplicationDestination]]] | None,
                           request_metrics: bool, cloudtrail: bool, policy: bool,
                           require_in_sync: bool, cloudtrail_management_events: bool = False) -> AccessPointStack:
        stack = AccessPointStack(
            scope, f"{self.stack_prefix}-access-point", env=Environment(account=self.account, region=self.home_region),
            mrap_name=self.access_point_name, trail_name=f"mrap-{self.name}-data-events",
            policy_generation=self.policy_generation, bucket_names=self.bucket_names,
            bucket_accounts={r: a for r, a in self.bucket_accounts.items() if a != self.account},
            removal_policy=self.removal_policy, failover_active=failover_active, failover_passive=failover_passive,
            routes_region=routes_region, dashboard_replication=dashboard_replication,
            dashboard_name=self.dashboard_name,
            request_metric_buckets=self.bucket_names if request_metrics else None,
            cloudtrail_buckets=self.bucket_names if cloudtrail else None, policy=policy,
            initial_passive=self.empty_regions, require_in_sync=require_in_sync,
            routes_handler_role_name=self.routes_handler_role_name, reader_roles=self.reader_roles,
            cloudtrail_management_events=cloudtrail_management_events,
            description=f"MRAP {self.name}: the Multi-Region Access Point and its policy (wave 2)",
        )
        self._after_buckets(stack)
        if not has_replication_stacks(self.regions):  # the replication stacks' warning, where there are none
            for existing in self.existing_buckets.values():
                warn_existing_bucket(stack, existing, replication_replaced=False)
        return stack

    def _backfill_wave(self, scope: Construct, *, key: str) -> None:
        # Wave 3: S3 Batch Replication replicates with the source's rules, so after its replication stack; and after
        # the MRAP, whose routes resource has made the Regions being filled passive.
        for source in self.backfill_regions:
            stack = BackfillStack(
                scope, f"{self.stack_prefix}-backfill-{source}",
                env=Environment(account=self.owners[source], region=source),
                source_bucket_name=self.bucket_names[source], mrap_name=self.access_point_name, backfill_key=key,
                source_kms_key_arn=self._bucket_key_arn(source) if self.replication_kms else None,
                description=f"MRAP {self.name}: backfill from {source} to {', '.join(self.plan[source])} (wave 3)",
            )
            stack.add_stack_dependency(self.replication_stacks[source], "the job replicates with the source's rules")
            stack.add_stack_dependency(self.access_point_stack, "the Regions being filled are passive first")
            self.backfill_stacks[source] = stack

    def _privatelink_waves(self, scope: Construct, *, regions: list[str], vpc_cidr: str,
                           availability_zones: dict[str, Sequence[str]], restrict: bool) -> None:
        # Wave 3: the endpoint policy names the MRAP by its alias, which exists once wave 2 is done. The lookups of the
        # alias and of the endpoint ids run again whenever what they read may have been replaced.
        mrap_key = self.access_point.replacement_fingerprint
        for region in regions:
            stack = PrivateLinkStack(
                scope, f"{self.stack_prefix}-privatelink-{region}",
                env=Environment(account=self.account, region=region), mrap_name=self.access_point_name,
                bucket_names=[self.bucket_names[r] for r in self.regions], vpc_cidr=vpc_cidr,
                availability_zones=availability_zones.get(region), mrap_refresh_key=mrap_key,
                description=f"MRAP {self.name}: VPC and PrivateLink endpoint in {region} (wave 3)",
            )
            stack.add_stack_dependency(self.access_point_stack, "the endpoint policy names the MRAP's alias")
            self.endpoint_stacks[region] = stack
        if not restrict:
            return
        # Wave 4: the policy names the endpoint ids, which exist once wave 3 is done.
        self.policy_stack = RestrictedPolicyStack(
            scope, f"{self.stack_prefix}-access-point-policy",
            env=Environment(account=self.account, region=self.home_region), mrap_name=self.access_point_name,
            endpoint_regions=regions, mrap_refresh_key=mrap_key, policy_generation=self.policy_generation,
            endpoint_refresh_keys={r: fingerprint([vpc_cidr, availability_zones.get(r)]) for r in regions},
            endpoint_stack_names={r: stack.stack_name for r, stack in self.endpoint_stacks.items()},
            description=f"MRAP {self.name}: the MRAP policy, only through the PrivateLink endpoints (wave 4)",
        )
        for stack in self.endpoint_stacks.values():
            self.policy_stack.add_stack_dependency(stack, "the policy names the endpoint ids")

    def _cloudfront_wave(self, scope: Construct, *, price_class: str, default_root_object: str | None,
                         domain_names: list[str], certificate_arn: str | None, logging: bool,
                         web_acl_id: str | None) -> None:
        # Wave 3: the origin is the MRAP's alias (exists once wave 2 is done); the stack also writes the MRAP policy,
        # which names the distribution (see the module docstring).
        self.cloudfront_stack = CloudFrontStack(
            scope, f"{self.stack_prefix}-cloudfront",
            env=Environment(account=self.account, region=CLOUDFRONT_STACK_REGION), mrap_name=self.access_point_name,
            policy_generation=self.policy_generation, regions=self.regions,
            mrap_refresh_key=self.access_point.replacement_fingerprint,
            price_class=price_class, default_root_object=default_root_object, domain_names=domain_names,
            certificate_arn=certificate_arn, logging=logging, web_acl_id=web_acl_id,
            removal_policy=self.removal_policy, existing_buckets=list(self.existing_buckets.values()),
            description=f"MRAP {self.name}: CloudFront distribution and the MRAP policy admitting it (wave 3)",
        )
        self.cloudfront_stack.add_stack_dependency(self.access_point_stack, "the origin is the MRAP's alias")

    # --- derived facts --------------------------------------------------------------------------------------------

    @property
    def access_point(self) -> MultiRegionAccessPoint:
        """The MRAP construct (in the access-point stack)."""
        return self.access_point_stack.access_point

    @property
    def kms_alias_name(self) -> str:
        """The alias of each Region's bucket key: ``alias/{bucket_prefix}-mrap``."""
        return f"alias/{self.bucket_prefix}-mrap"

    @property
    def replication_role_names(self) -> dict[str, str]:
        """Fixed replication role names (``{bucket_prefix}-replication-{region}``) when buckets span accounts: the
        other accounts' bucket policies name them. Empty otherwise (generated names)."""
        if not self.bucket_accounts:
            return {}
        return {region: f"{self.bucket_prefix}-replication-{region}" for region in self.regions}

    @property
    def waves(self) -> list[list[Stack]]:
        """Stacks grouped by deploy wave (a stack depends only on stacks of earlier waves)."""
        waves: list[list[Stack]] = [list(self.bucket_stacks.values()),
                                    [*self.replication_stacks.values(), self.access_point_stack]]
        if self.endpoint_stacks or self.cloudfront_stack or self.backfill_stacks:
            waves.append([*self.endpoint_stacks.values(), *filter(None, [self.cloudfront_stack]),
                          *self.backfill_stacks.values()])
        if self.policy_stack:
            waves.append([self.policy_stack])
        return waves

    @property
    def stacks(self) -> list[Stack]:
        """Every stack, wave by wave."""
        return [s for wave in self.waves for s in wave]

    def _after_buckets(self, stack: Stack) -> None:
        for bucket_stack in self.bucket_stacks.values():
            stack.add_stack_dependency(bucket_stack, "buckets exist before replication rules and the MRAP name them")

    def _kms_alias_arn(self, region: str) -> str:
        # The key of the bucket's owner (across accounts, the destination account's key: its policy admits the
        # other accounts' replication roles, stacks/bucket.py admit_replication_roles).
        owner = self.owners.get(region) or self.account or Aws.ACCOUNT_ID
        return f"arn:{region_partition(region)}:kms:{region}:{owner}:{self.kms_alias_name}"

    def _bucket_key_arn(self, region: str) -> str:
        """The key that encrypts ``region``'s bucket: an adopted bucket's own (``existing_bucket_keys``), else the
        set's key in that Region (by alias)."""
        return self.existing_bucket_keys.get(region) or self._kms_alias_arn(region)

    @property
    def routes_handler_role_name(self) -> str | None:
        """The routes handler role's fixed name when buckets span accounts (their reader roles' trust names it):
        ``{bucket_prefix}-routes``; None otherwise (generated)."""
        return f"{self.bucket_prefix}-routes" if self._other_accounts else None

    @property
    def state_reader_principals(self) -> list[str]:
        """Who may assume the reader roles of the other accounts: the routes handler, and ``bucket_account_readers``
        (operators running ``mrap activate`` / ``mrap failover``)."""
        partition = region_partition(self.home_region)
        handler = f"arn:{partition}:iam::{self.account}:role/{self.routes_handler_role_name}"
        return sorted({handler, *self.bucket_account_readers})

    @property
    def reader_roles(self) -> dict[str, str]:
        """``{region: role ARN}`` of the read-only role in each bucket account other than the MRAP's."""
        return {r: f"arn:{region_partition(r)}:iam::{self.owners[r]}:role/"
                   f"{state_reader_role_name(self.bucket_prefix, r)}" for r in self._other_accounts}

    @property
    def _other_accounts(self) -> list[str]:
        """The Regions whose bucket the set creates in an account other than the MRAP's."""
        return [r for r in self.regions if r not in self.existing_buckets
                and self.owners.get(r) not in (None, self.account)]

    def _validate(self, id: str, account: str | None, encryption: s3.BucketEncryption,
                  privatelink_regions: Sequence[str], restrict_to_endpoints: bool, backfill: bool | None) -> None:
        problems = Problems("MrapSet", id)
        if account is not None and (why := account_problem(account)):
            problems.add("account", account, why)
        if why := bucket_prefix_problem(self.bucket_prefix, self.regions):
            problems.add("bucket_prefix", self.bucket_prefix, why)
        for field, value, rule in set_problems(regions=self.regions, account=account,
                                               bucket_accounts=self.bucket_accounts,
                                               existing_buckets=self.existing_buckets, encryption=encryption.value,
                                               kms=encryption == s3.BucketEncryption.KMS,
                                               existing_bucket_keys=self.existing_bucket_keys):
            problems.add(field, value, rule)
        unknown = [r for r in privatelink_regions if r not in SUPPORTED_REGIONS]
        if unknown:
            problems.add("privatelink_regions", unknown, f"not Regions with MRAP support{suggest_region(unknown[0])}")
        for field, value, rule in backfill_problems(existing_buckets=self.existing_buckets, plan=self.plan,
                                                    backfill=backfill):
            problems.add(field, value, rule)
        if restrict_to_endpoints and not privatelink_regions:
            problems.add("restrict_to_endpoints", True, "needs privatelink_regions (the endpoints to restrict to)")
        problems.raise_if_any()
