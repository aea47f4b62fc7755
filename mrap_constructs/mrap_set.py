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
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict, Unpack

from aws_cdk import Aws, Environment, RemovalPolicy, Stack, Stage
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs import _paths
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.access_point import MultiRegionAccessPoint, fingerprint
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
from mrap_constructs.options import (
    DEFAULT_VPC_CIDR,
    BackfillOptions,
    CloudFrontOptions,
    FailoverOptions,
    MonitoringOptions,
    PrivateLinkOptions,
)
from mrap_constructs.regions import CONTROL_PLANE_REGION, home_region_problem, regions_problem, state_reader_role_name
from mrap_constructs.replication import (
    ReplicationDestination,
    ReplicationMode,
    ReplicationOptions,
    plan_problems,
    replication_plan,
)
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

__all__ = ["DEFAULT_VPC_CIDR", "FlatKeywords", "MrapSet", "SetOptions", "backfill_problems", "backfill_sources",
           "has_replication_stacks", "mrap_set_problems", "orphaned_stack_commands", "set_problems",
           "stack_name_prefix"]


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


#: An IAM role or user ARN of ``bucket_account_readers`` (wildcards allowed: the reader roles' trust compares
#: ``aws:PrincipalArn`` with ArnLike).
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/*?-]+")


def reader_problems(readers: Sequence[str], *, account: str | None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for ``bucket_account_readers``: IAM principal ARNs of the MRAP account (the reader
    roles in the other accounts trust that account, limited to these principals)."""
    found: list[tuple[str, object, str]] = []
    for index, arn in enumerate(readers):
        if not isinstance(arn, str) or not _PRINCIPAL_ARN.fullmatch(arn):
            found.append((f"bucket_account_readers[{index}]", arn, "give an IAM role or user ARN (wildcards allowed), "
                                                                   "e.g. arn:aws:iam::111122223333:role/operators"))
        elif account and not is_unresolved(account) and arn.split(":")[4] != account:
            found.append((f"bucket_account_readers[{index}]", arn, f"must be a principal of the MRAP account {account} "
                                                                   "(the reader roles trust that account)"))
    return found


@dataclass(frozen=True)
class SetOptions:
    """The option groups of one ``MrapSet``, as given (``backfill`` resolved to ``BackfillOptions``)."""

    replication: ReplicationOptions = ReplicationOptions()
    monitoring: MonitoringOptions = MonitoringOptions()
    failover: FailoverOptions | None = None
    privatelink: PrivateLinkOptions | None = None
    cloudfront: CloudFrontOptions | None = None
    backfill: BackfillOptions = BackfillOptions()


def mrap_set_problems(*, name: str, regions: Sequence[str], account: str | None, home_region: str,
                      bucket_prefix: str, encryption: object, kms: bool, bucket_accounts: Mapping[str, str],
                      existing_buckets: Mapping[str, str], options: SetOptions,
                      existing_bucket_keys: Mapping[str, str] | None = None,
                      bucket_account_readers: Sequence[str] = ()) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for every problem with a set's input — the one statement of these rules, for
    ``MrapSet`` and the app config (``stacks/config.py``) alike. Fields of an option group are prefixed with the
    group's name (``replication.rtc``), as the config's keys are. ``encryption`` is shown as given."""
    found: list[tuple[str, object, str]] = []
    regions = list(regions)
    if not is_unresolved(name) and (why := mrap_name_problem(name)):
        found.append(("name", name, why))
    if why := regions_problem(regions):
        found.append(("regions", regions, why))
    if account is not None and not is_unresolved(account) and (why := account_problem(account)):
        found.append(("account", account, why))
    if why := home_region_problem(home_region):
        found.append(("home_region", home_region, why))
    if why := bucket_prefix_problem(bucket_prefix, regions):
        found.append(("bucket_prefix", bucket_prefix, why))
    found += set_problems(regions=regions, account=account, bucket_accounts=bucket_accounts,
                          existing_buckets=existing_buckets, encryption=encryption, kms=kms,
                          existing_bucket_keys=existing_bucket_keys)
    found += reader_problems(bucket_account_readers, account=account)
    replication, monitoring = options.replication, options.monitoring
    group: list[tuple[str, list[tuple[str, object, str]]]] = [
        ("replication", replication.rule_problems()
         + [p for p in plan_problems(regions, replication.mode, replication.source_region) if p[0] != "regions"]),
        ("monitoring", monitoring.problems()),
        ("failover", options.failover.problems(regions) if options.failover else []),
        ("privatelink", options.privatelink.problems() if options.privatelink else []),
        ("backfill", options.backfill.problems()),
    ]
    for prefix, problems in group:
        found += [(f"{prefix}.{field_name}", value, rule) for field_name, value, rule in problems]
    if replication.kms and not kms:
        found.append(("replication.kms", True, "needs encryption KMS (sse-kms): the buckets have no KMS keys"))
    mode_known = replication.mode in {m.value for m in ReplicationMode}
    if (monitoring.alarms is not None and not replication.metrics and mode_known
            and ReplicationMode(replication.mode) != ReplicationMode.NONE):
        found.append(("monitoring.alarms", "on", "needs replication.metrics (the alarms watch replication metrics): "
                                                 "turn metrics on or alarms off"))
    if options.cloudfront is not None:
        restrict = options.privatelink is not None and options.privatelink.restrict_to_endpoints
        found += [(field_name if field_name == "regions" else
                   "privatelink.restrict_to_endpoints" if field_name == "restrict_to_endpoints" else
                   f"cloudfront.{field_name}", value, rule)
                  for field_name, value, rule in options.cloudfront.problems(regions, restrict_to_endpoints=restrict)]
    if not found:  # the backfill rules read the replication plan, which needs valid Regions and mode
        plan = replication_plan(regions, replication.mode, replication.source_region)
        if options.failover is not None:
            found += [("failover.active", value, rule.replace("(replication_source_region)",
                                                              "(replication.source_region)")
                       .replace("accept_unreplicated_writes", "failover.accept_unreplicated_writes: true"))
                      for _, value, rule in unreplicated_active_problems(
                          plan=plan, failover_active=list(options.failover.active),
                          accept=options.failover.accept_unreplicated_writes)]
        found += filter_problems(regions=regions, plan=plan, prefix=replication.prefix, tags=replication.tags,
                                active=list(options.failover.active) if options.failover else None,
                                acknowledged=replication.acknowledge_filtered_404s)
        found += [(f"backfill.{'enabled' if f == 'backfill' else f}", value, rule) for f, value, rule in
                  backfill_problems(existing_buckets=existing_buckets, plan=plan, backfill=options.backfill.enabled)]
    return found


class FlatKeywords(TypedDict, total=False):
    """``MrapSet``'s flat keywords of earlier releases, deprecated: each sets one field of an option group."""

    replication_mode: ReplicationMode | str
    replication_source_region: str | None
    replication_options: ReplicationOptions
    replication_kms: bool | None
    acknowledge_filtered_404s: bool
    cloudtrail_management_events: bool
    failover_active: Sequence[str] | None
    failover_passive: Sequence[str] | None
    routes_region: str | None
    failover_require_in_sync: bool
    accept_unreplicated_writes: bool
    alarms: AlarmThresholds | None
    alarm_email: str | None
    alarms_per_rule: bool
    dashboard: bool
    access_logs: bool
    request_metrics: bool
    cloudtrail: bool
    privatelink_regions: Sequence[str]
    privatelink_vpc_cidr: str
    privatelink_availability_zones: Mapping[str, Sequence[str]] | None
    restrict_to_endpoints: bool
    backfill_key: str
    cloudfront_price_class: str
    cloudfront_default_root_object: str | None
    cloudfront_domain_names: Sequence[str]
    cloudfront_certificate_arn: str | None
    cloudfront_logging: bool
    cloudfront_web_acl_id: str | None


#: Each flat keyword's option group and field.
_FLAT = {
    "replication_mode": ("replication", "mode"), "replication_source_region": ("replication", "source_region"),
    "replication_kms": ("replication", "kms"),
    "acknowledge_filtered_404s": ("replication", "acknowledge_filtered_404s"),
    "cloudtrail_management_events": ("monitoring", "cloudtrail_management_events"),
    "failover_active": ("failover", "active"), "failover_passive": ("failover", "passive"),
    "routes_region": ("failover", "routes_region"), "failover_require_in_sync": ("failover", "require_in_sync"),
    "accept_unreplicated_writes": ("failover", "accept_unreplicated_writes"),
    "alarms": ("monitoring", "alarms"), "alarm_email": ("monitoring", "alarm_email"),
    "alarms_per_rule": ("monitoring", "alarms_per_rule"), "dashboard": ("monitoring", "dashboard"),
    "access_logs": ("monitoring", "access_logs"), "request_metrics": ("monitoring", "request_metrics"),
    "cloudtrail": ("monitoring", "cloudtrail"),
    "privatelink_regions": ("privatelink", "regions"), "privatelink_vpc_cidr": ("privatelink", "vpc_cidr"),
    "privatelink_availability_zones": ("privatelink", "availability_zones"),
    "restrict_to_endpoints": ("privatelink", "restrict_to_endpoints"),
    "backfill_key": ("backfill", "key"),
    **{f"cloudfront_{f.name}": ("cloudfront", f.name) for f in fields(CloudFrontOptions)},
}
_RULE_FIELDS = ("delete_markers", "replica_modifications", "metrics", "rtc", "storage_class", "prefix", "tags")


def _from_flat_keywords(flat: dict[str, Any], *, replication: ReplicationOptions, monitoring: MonitoringOptions,
                        failover: FailoverOptions | None, privatelink: PrivateLinkOptions | None,
                        cloudfront: CloudFrontOptions | bool | None, backfill: BackfillOptions | bool | None,
                        ) -> tuple[ReplicationOptions, MonitoringOptions, FailoverOptions | None,
                                   PrivateLinkOptions | None, CloudFrontOptions | None, BackfillOptions | bool | None]:
    """The option groups for the deprecated flat keywords (and ``cloudfront=True``), with a DeprecationWarning naming
    what replaces each; behaviour as in the release that had them."""
    unknown = sorted(set(flat) - set(_FLAT) - {"replication_options"})
    if unknown:
        raise TypeError(f"MrapSet() got unexpected keyword arguments {unknown}")
    given = sorted(flat) + (["cloudfront=True/False"] if isinstance(cloudfront, bool) else [])
    replacements = sorted({f"{_FLAT[k][0]}=" if k in _FLAT else "replication=" for k in flat}
                          | ({"cloudfront="} if isinstance(cloudfront, bool) else set()))
    warnings.warn(f"MrapSet: the flat keywords {given} are deprecated and will be removed in the next release; use "
                  f"the option groups {replacements} (ReplicationOptions, MonitoringOptions, FailoverOptions, "
                  "PrivateLinkOptions, CloudFrontOptions, BackfillOptions)", DeprecationWarning, stacklevel=4)
    groups: dict[str, dict[str, Any]] = {"replication": {}, "monitoring": {}, "failover": {}, "privatelink": {},
                                         "cloudfront": {}, "backfill": {}}
    for key, value in flat.items():
        if key in _FLAT:
            group, field_name = _FLAT[key]
            groups[group][field_name] = value
    if "replication_options" in flat:
        rules = flat["replication_options"]
        groups["replication"] = {**{f: getattr(rules, f) for f in _RULE_FIELDS}, **groups["replication"]}
    replication = replace(replication, **groups["replication"])
    if not replication.metrics:  # earlier releases created no alarms without metrics, rather than failing
        groups["monitoring"]["alarms"] = None
    monitoring = replace(monitoring, **groups["monitoring"])
    if failover is None and groups["failover"].keys() - {"require_in_sync", "accept_unreplicated_writes"}:
        failover = FailoverOptions(active=groups["failover"].pop("active", None) or [])
    if failover is not None:
        failover = replace(failover, **groups["failover"])
    pl = groups["privatelink"]
    if pl.get("availability_zones") is None:
        pl.pop("availability_zones", None)
    if privatelink is None and (pl.get("regions") or pl.get("restrict_to_endpoints")):
        privatelink = PrivateLinkOptions(regions=pl.pop("regions", ()))
    if privatelink is not None:
        privatelink = replace(privatelink, **pl)
    if isinstance(cloudfront, bool):
        cloudfront = CloudFrontOptions() if cloudfront else None
    if cloudfront is not None:
        cloudfront = replace(cloudfront, **groups["cloudfront"])
    if "key" in groups["backfill"]:
        backfill = (backfill if isinstance(backfill, BackfillOptions) else BackfillOptions(enabled=backfill))
        backfill = replace(backfill, **groups["backfill"])
    return replication, monitoring, failover, privatelink, cloudfront, backfill


class MrapSet(Construct):
    """Everything an MRAP needs across Regions, as stacks in deploy waves: ``cdk deploy --all`` works on a fresh
    account in one command.

    The stacks are this construct's children, so ``cdk.Tags.of(media)``, ``Aspects.of(media)`` and
    ``RemovalPolicies.of(media)`` reach every resource of every stack. Each stack's ``stack_name`` is given
    explicitly — ``{name}-bucket-{region}`` etc., prefixed with the Stage's name inside a named Stage — which is the
    name CDK gave it when earlier releases added the stacks to ``scope``: deployed stacks and their logical ids are
    unchanged. The CLI lists a stack by its path (``Media/media-bucket-us-east-1``): ``cdk deploy --all``, or
    ``cdk deploy 'Media/*'``, or the path, select them.

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
        bucket_accounts: ``{region: account}`` for buckets owned by other accounts. Default: none.
        existing_buckets: ``{region: bucket name}`` to use instead of creating a bucket. Default: none.
        replication: mode (``full-mesh``, ``one-way``, ``none``), one-way source, SSE-KMS replication and the rule
            settings (``ReplicationOptions``). Default: ``ReplicationOptions()`` (full mesh).
        monitoring: alarms, dashboard, access logs, request metrics, CloudTrail (``MonitoringOptions``).
            Default: ``MonitoringOptions()``.
        failover: the routing dials (``FailoverOptions``). Default: None — no routes resource, every Region active.
        privatelink: a VPC and an interface endpoint per listed Region, optionally the MRAP policy restricted to
            them (``PrivateLinkOptions``). Default: None.
        cloudfront: a CloudFront distribution in front of the MRAP (``CloudFrontOptions``), which then holds the MRAP
            policy. Default: None.
        backfill: S3 Batch Replication of what the existing buckets held (``BackfillOptions``, or a bool for its
            ``enabled``). Default: on when an existing bucket replicates somewhere.
        **flat: the flat keywords of earlier releases (``replication_mode``, ``failover_active``, ``alarms``,
            ``privatelink_regions``, ``cloudfront_price_class``, ... — ``FlatKeywords``), deprecated: each sets one
            field of its group, with a ``DeprecationWarning``.

    Attributes:
        access_point (the ``MultiRegionAccessPoint``), bucket_names, bucket_stacks, replication_stacks,
        access_point_stack, endpoint_stacks, backfill_stacks, backfill_regions, empty_regions, policy_stack (or
        None), cloudfront_stack (or None), waves, stacks.

    Raises:
        ValueError: listing every invalid input (``mrap_set_problems``: name, Regions, accounts, bucket names and every
            option group).

    Example:
        app = cdk.App()
        media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1"], account="111122223333",
                        failover=FailoverOptions(active=["us-east-1"]))
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
        bucket_accounts: Mapping[str, str] | None = None,
        existing_buckets: Mapping[str, str] | None = None,
        replication: ReplicationOptions = ReplicationOptions(),
        monitoring: MonitoringOptions = MonitoringOptions(),
        failover: FailoverOptions | None = None,
        privatelink: PrivateLinkOptions | None = None,
        cloudfront: CloudFrontOptions | bool | None = None,
        backfill: BackfillOptions | bool | None = None,
        existing_bucket_keys: Mapping[str, str] | None = None,
        bucket_account_readers: Sequence[str] = (),
        access_point_name: str | None = None,
        kms_default_encryption: bool = True,
        policy_generation: int = 0,
        **flat: Unpack[FlatKeywords],
    ) -> None:
        super().__init__(scope, id)
        setattr(self, _paths.TRANSPARENT_ATTRIBUTE, True)  # the stacks keep the paths they had under scope
        if flat or isinstance(cloudfront, bool):
            replication, monitoring, failover, privatelink, cloudfront, backfill = _from_flat_keywords(
                dict(flat), replication=replication, monitoring=monitoring, failover=failover,
                privatelink=privatelink, cloudfront=cloudfront, backfill=backfill)
        if isinstance(backfill, bool) or backfill is None:
            backfill = BackfillOptions(enabled=backfill)
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
        self.account = account
        self.options = SetOptions(replication=replication, monitoring=monitoring, failover=failover,
                                  privatelink=privatelink, cloudfront=cloudfront, backfill=backfill)
        problems = Problems("MrapSet", id)
        for field_name, value, rule in mrap_set_problems(
                name=name, regions=self.regions, account=account, home_region=home_region,
                bucket_prefix=self.bucket_prefix, encryption=encryption.value,
                kms=encryption == s3.BucketEncryption.KMS, bucket_accounts=self.bucket_accounts,
                existing_buckets=self.existing_buckets, existing_bucket_keys=self.existing_bucket_keys,
                bucket_account_readers=self.bucket_account_readers, options=self.options):
            problems.add(field_name, value, rule)
        if access_point_name is not None and (why := mrap_name_problem(access_point_name)):
            problems.add("access_point_name", access_point_name, why)
        if policy_generation < 0:
            problems.add("policy_generation", policy_generation, "give 0 or more")
        problems.raise_if_any()
        self.plan = replication_plan(self.regions, replication.mode, replication.source_region)
        self.cloudfront = cloudfront is not None
        self.stack_prefix = stack_name_prefix(name)
        #: What CDK named a stack with this id directly under ``scope`` before the stacks became this construct's
        #: children: ``{stage name}-{id}`` in a named Stage, ``{id}`` in the App. Given as each stack's
        #: ``stack_name``, so moving them under this construct renames no deployed stack.
        stage = Stage.of(self)  # the Stage (or App) the stacks belong to, as before
        self._stack_name_prefix = f"{stage.stage_name}-" if stage is not None and stage.stage_name else ""
        self.removal_policy = removal_policy
        self.kms = encryption == s3.BucketEncryption.KMS
        self.replication_kms = self.kms if replication.kms is None else replication.kms
        self.owners: dict[str, str | None] = {r: self.bucket_accounts.get(r, account) for r in self.regions}
        self.bucket_names: dict[str, str] = {
            r: self.existing_buckets.get(r) or bucket_name(self.bucket_prefix, r, self.owners[r]) for r in self.regions}
        self.dashboard_name = f"mrap-{name}"
        #: Regions whose bucket gets a backfill job, and the Regions they fill (passive until activated).
        self.backfill_regions: list[str] = backfill_sources(existing_buckets=self.existing_buckets, plan=self.plan,
                                                            backfill=backfill.enabled)
        self.empty_regions: list[str] = sorted({dst for src in self.backfill_regions for dst in self.plan[src]}
                                               - set(self.existing_buckets))

        self.bucket_stacks: dict[str, RegionalBucketStack] = {}
        self.replication_stacks: dict[str, ReplicationStack] = {}
        self.endpoint_stacks: dict[str, PrivateLinkStack] = {}
        self.backfill_stacks: dict[str, BackfillStack] = {}
        self.policy_stack: RestrictedPolicyStack | None = None
        self.cloudfront_stack: CloudFrontStack | None = None

        restrict = privatelink is not None and privatelink.restrict_to_endpoints
        self._bucket_wave(access_logs=monitoring.access_logs, request_metrics=monitoring.request_metrics)
        dashboard = monitoring.dashboard
        dashboard_replication = self._replication_wave(
            options=replication, alarms=monitoring.alarms if replication.metrics else None,
            alarm_email=monitoring.alarm_email, alarms_per_rule=monitoring.alarms_per_rule, dashboard=dashboard)
        self.access_point_stack: AccessPointStack = self._access_point_wave(
            failover=failover, dashboard_replication=dashboard_replication if dashboard else None,
            request_metrics=monitoring.request_metrics, cloudtrail=monitoring.cloudtrail,
            policy=not (restrict or cloudfront is not None),
            cloudtrail_management_events=monitoring.cloudtrail_management_events)
        self._backfill_wave(key=backfill.key)
        if privatelink is not None:
            self._privatelink_waves(privatelink)
        if cloudfront is not None:
            self._cloudfront_wave(cloudfront)

    def _stack_name(self, id: str) -> str:
        return f"{self._stack_name_prefix}{id}"

    # --- the waves -----------------------------------------------------------------------------------------------

    def _bucket_wave(self, *, access_logs: bool, request_metrics: bool) -> None:
        role_names = self.replication_role_names
        for region in self.regions:
            if region in self.existing_buckets:
                continue  # the user's bucket: nothing to create (the replication stack warns what it must have)
            owner = self.owners[region]
            sources_elsewhere = [src for src, dsts in self.plan.items()
                                 if region in dsts and self.owners[src] != owner]
            stack_id = f"{self.stack_prefix}-bucket-{region}"
            self.bucket_stacks[region] = RegionalBucketStack(
                self, stack_id, stack_name=self._stack_name(stack_id), env=Environment(account=owner, region=region),
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

    def _replication_wave(self, *, options: ReplicationOptions, alarms: AlarmThresholds | None,
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
            stack_id = f"{self.stack_prefix}-replication-{source}"
            stack = ReplicationStack(
                self, stack_id, stack_name=self._stack_name(stack_id),
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

    def _access_point_wave(self, *, failover: FailoverOptions | None,
                           dashboard_replication: Mapping[str, tuple[str, Sequence[ReplicationDestination]]] | None,
                           request_metrics: bool, cloudtrail: bool, policy: bool,
                           cloudtrail_management_events: bool = False) -> AccessPointStack:
        stack_id = f"{self.stack_prefix}-access-point"
        stack = AccessPointStack(
            self, stack_id, stack_name=self._stack_name(stack_id),
            env=Environment(account=self.account, region=self.home_region),
            mrap_name=self.access_point_name, trail_name=f"mrap-{self.name}-data-events",
            policy_generation=self.policy_generation, bucket_names=self.bucket_names,
            bucket_accounts={r: a for r, a in self.bucket_accounts.items() if a != self.account},
            removal_policy=self.removal_policy, failover_active=failover.active if failover else None,
            failover_passive=failover.passive if failover else None,
            routes_region=failover.routes_region if failover else None, dashboard_replication=dashboard_replication,
            dashboard_name=self.dashboard_name,
            request_metric_buckets=self.bucket_names if request_metrics else None,
            cloudtrail_buckets=self.bucket_names if cloudtrail else None, policy=policy,
            initial_passive=self.empty_regions, require_in_sync=failover.require_in_sync if failover else True,
            routes_handler_role_name=self.routes_handler_role_name, reader_roles=self.reader_roles,
            cloudtrail_management_events=cloudtrail_management_events,
            description=f"MRAP {self.name}: the Multi-Region Access Point and its policy (wave 2)",
        )
        self._after_buckets(stack)
        if not has_replication_stacks(self.regions):  # the replication stacks' warning, where there are none
            for existing in self.existing_buckets.values():
                warn_existing_bucket(stack, existing, replication_replaced=False)
        return stack

    def _backfill_wave(self, *, key: str) -> None:
        # Wave 3: S3 Batch Replication replicates with the source's rules, so after its replication stack; and after
        # the MRAP, whose routes resource has made the Regions being filled passive.
        for source in self.backfill_regions:
            stack_id = f"{self.stack_prefix}-backfill-{source}"
            stack = BackfillStack(
                self, stack_id, stack_name=self._stack_name(stack_id),
                env=Environment(account=self.owners[source], region=source),
                source_bucket_name=self.bucket_names[source], mrap_name=self.access_point_name, backfill_key=key,
                source_kms_key_arn=self._bucket_key_arn(source) if self.replication_kms else None,
                description=f"MRAP {self.name}: backfill from {source} to {', '.join(self.plan[source])} (wave 3)",
            )
            stack.add_stack_dependency(self.replication_stacks[source], "the job replicates with the source's rules")
            stack.add_stack_dependency(self.access_point_stack, "the Regions being filled are passive first")
            self.backfill_stacks[source] = stack

    def _privatelink_waves(self, options: PrivateLinkOptions) -> None:
        regions, vpc_cidr = list(options.regions), options.vpc_cidr
        availability_zones = dict(options.availability_zones)
        # Wave 3: the endpoint policy names the MRAP by its alias, which exists once wave 2 is done. The lookups of the
        # alias and of the endpoint ids run again whenever what they read may have been replaced.
        mrap_key = self.access_point.replacement_fingerprint
        for region in regions:
            stack_id = f"{self.stack_prefix}-privatelink-{region}"
            stack = PrivateLinkStack(
                self, stack_id, stack_name=self._stack_name(stack_id),
                env=Environment(account=self.account, region=region), mrap_name=self.access_point_name,
                bucket_names=[self.bucket_names[r] for r in self.regions], vpc_cidr=vpc_cidr,
                availability_zones=availability_zones.get(region), mrap_refresh_key=mrap_key,
                description=f"MRAP {self.name}: VPC and PrivateLink endpoint in {region} (wave 3)",
            )
            stack.add_stack_dependency(self.access_point_stack, "the endpoint policy names the MRAP's alias")
            self.endpoint_stacks[region] = stack
        if not options.restrict_to_endpoints:
            return
        # Wave 4: the policy names the endpoint ids, which exist once wave 3 is done.
        stack_id = f"{self.stack_prefix}-access-point-policy"
        self.policy_stack = RestrictedPolicyStack(
            self, stack_id, stack_name=self._stack_name(stack_id),
            env=Environment(account=self.account, region=self.home_region), mrap_name=self.access_point_name,
            endpoint_regions=regions, mrap_refresh_key=mrap_key, policy_generation=self.policy_generation,
            endpoint_refresh_keys={r: fingerprint([vpc_cidr, availability_zones.get(r)]) for r in regions},
            endpoint_stack_names={r: stack.stack_name for r, stack in self.endpoint_stacks.items()},
            description=f"MRAP {self.name}: the MRAP policy, only through the PrivateLink endpoints (wave 4)",
        )
        for stack in self.endpoint_stacks.values():
            self.policy_stack.add_stack_dependency(stack, "the policy names the endpoint ids")

    def _cloudfront_wave(self, options: CloudFrontOptions) -> None:
        # Wave 3: the origin is the MRAP's alias (exists once wave 2 is done); the stack also writes the MRAP policy,
        # which names the distribution (see the module docstring).
        stack_id = f"{self.stack_prefix}-cloudfront"
        self.cloudfront_stack = CloudFrontStack(
            self, stack_id, stack_name=self._stack_name(stack_id),
            env=Environment(account=self.account, region=CLOUDFRONT_STACK_REGION), mrap_name=self.access_point_name,
            policy_generation=self.policy_generation, regions=self.regions,
            mrap_refresh_key=self.access_point.replacement_fingerprint,
            price_class=options.price_class, default_root_object=options.default_root_object,
            domain_names=list(options.domain_names), certificate_arn=options.certificate_arn, logging=options.logging,
            web_acl_id=options.web_acl_id,
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
