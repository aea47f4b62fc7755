"""Cross-Region Replication between the buckets of a Multi-Region Access Point.

Three pieces, from pure to concrete:

* ``replication_plan`` turns a mode (full mesh, one-way, none) into ``{source: [destinations]}``;
* ``replication_rules`` turns one source's destinations into S3 V2 rules (pure, unit-testable);
* ``BucketReplication`` (a construct) creates the source's replication role and applies the rules to a bucket
  that **already exists**, with an ``AwsCustomResource`` (PutBucketReplication on create/update,
  DeleteBucketReplication on delete).

Why a custom resource instead of ``ReplicationConfiguration`` on the bucket: S3 rejects a rule whose
destination bucket does not exist or is unversioned, so with the rules on the buckets a full mesh is a
dependency cycle between Regions. Applying them from a second wave of stacks — after every bucket exists —
breaks the cycle: one ``cdk deploy --all`` works on a fresh account, any update rewrites the whole
configuration (so adding/removing a Region or switching mode converges), and ``cdk destroy`` deletes the
replication configuration before the buckets' stacks go. A failed create rolls back by deleting the
configuration again, so no bucket is left half-configured.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Stack
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_s3 as s3,
)
from aws_cdk import (
    custom_resources as cr,
)
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._nag import acknowledge_all, nag_rendering, wildcard_findings
from mrap_constructs._sdk_call import sdk_call_resource
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.naming import region_partition, s3_bucket_arn
from mrap_constructs.regions import SUPPORTED_REGIONS, suggest_region

#: S3's limit of rules in one replication configuration.
MAX_RULES = 1000
#: Replication Time Control's SLA, also the metrics event threshold, in minutes.
RTC_MINUTES = 15
#: Why a tag filter and delete-marker replication exclude each other. S3 rejects such a rule at PutBucketReplication:
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html and botocore's
#: ``botocore/data/s3/2006-03-01/service-2.json`` shape ``DeleteMarkerReplication`` ("If you specify a Filter ...
#: that includes a Tag element, you must specify DeleteMarkerReplication Status Disabled").
TAG_FILTER_DELETE_MARKERS = ("a rule that filters on tags cannot replicate delete markers (S3 rejects it): set "
                             "delete_markers=False, or drop the tag filter")
#: Storage classes a replica may be written in.
REPLICA_STORAGE_CLASSES = frozenset(
    {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
     "DEEP_ARCHIVE", "GLACIER_IR"}
)


class ReplicationMode(enum.StrEnum):
    """How the MRAP's buckets replicate to each other."""

    #: Every bucket replicates to every other bucket: N·(N−1) rules. Active/active MRAPs need this.
    FULL_MESH = "full-mesh"
    #: One source Region replicates to all the others (active/passive).
    ONE_WAY = "one-way"
    #: No replication (the application writes every Region itself, or buckets hold different data).
    NONE = "none"


def rule_id(destination_region: str) -> str:
    """The id of the rule that replicates to ``destination_region``: ``to-{region}`` (stable across updates; the
    replication metrics' ``RuleId`` dimension, which the alarms and the dashboard read)."""
    return f"to-{destination_region}"


def plan_problems(regions: Sequence[str], mode: ReplicationMode | str,
                  source_region: str | None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for a mode and source Region that cannot make a plan over ``regions``: the one
    statement of these rules, for ``replication_plan``, ``MrapSet`` and the app config alike."""
    found: list[tuple[str, object, str]] = []
    try:
        mode = ReplicationMode(mode)
    except ValueError:
        return [("mode", mode, f"use one of {[m.value for m in ReplicationMode]}")]
    if len(set(regions)) != len(regions):
        found.append(("regions", list(regions), "list each Region once"))
    if source_region is not None and source_region not in regions:
        found.append(("source_region", source_region,
                      f"must be one of the MRAP's Regions {sorted(regions)}"
                      f"{'' if source_region in SUPPORTED_REGIONS else suggest_region(source_region)}"))
    if source_region is not None and mode != ReplicationMode.ONE_WAY:
        found.append(("source_region", source_region, f"only applies to mode 'one-way', not {mode.value!r}"))
    return found


def replication_plan(
    regions: Sequence[str], mode: ReplicationMode | str, source_region: str | None = None
) -> dict[str, list[str]]:
    """Return ``{source_region: [destination_regions]}`` for ``mode``; both levels sorted.

    Args:
        regions: the MRAP's Regions.
        mode: a ``ReplicationMode`` or its value.
        source_region: the source for ``one-way``. Default: the first of ``regions``.

    Raises:
        ValueError: unknown mode, duplicate Regions, or a source Region outside ``regions``.
    """
    problems = Problems("replication_plan", "plan")
    for field_name, value, rule in plan_problems(regions, mode, source_region):
        problems.add(field_name, value, rule)
    problems.raise_if_any()
    mode = ReplicationMode(mode)
    ordered = sorted(regions)
    if mode == ReplicationMode.FULL_MESH:
        return {src: [dst for dst in ordered if dst != src] for src in ordered} if len(ordered) > 1 else {}
    if mode == ReplicationMode.ONE_WAY:
        source = source_region or regions[0]
        destinations = [dst for dst in ordered if dst != source]
        return {source: destinations} if destinations else {}
    return {}


@dataclass(frozen=True)
class ReplicationOptions:
    """Settings shared by every rule of a replication configuration.

    Args:
        delete_markers: replicate delete markers, so a delete through the MRAP hides the object everywhere.
            Default: True.
        replica_modifications: sync metadata changes made on replicas back (needed for two-way). Default: True.
        metrics: S3 replication metrics (pending bytes/operations, latency) per rule, which the alarms use.
            Default: True.
        rtc: S3 Replication Time Control — 99.99% of objects within 15 minutes, with an SLA. It is billed per
            GB replicated on top of replication; turn it on when readers in other Regions need that bound.
            Default: False. Requires ``metrics``.
        storage_class: storage class of replicas, e.g. ``"STANDARD_IA"``. Default: the source object's class.
        prefix: replicate only keys with this prefix. Default: every object.
        tags: replicate only objects carrying all these tags. Default: no tag filter. Needs ``delete_markers=False``:
            S3 cannot replicate delete markers under a tag filter.
        mode: which buckets replicate to which (``MrapSet`` only): ``full-mesh``, ``one-way`` or ``none``.
            Default: full mesh.
        source_region: the source of ``one-way`` (``MrapSet`` only). Default: the first Region.
        kms: replicate SSE-KMS objects, re-encrypted with each destination's key (``MrapSet`` only). Default: whether
            the set's ``encryption`` is ``KMS``.
        acknowledge_filtered_404s: accept a ``prefix``/``tags`` filter with two or more active Regions, where an
            object outside the filter answers 404 whenever a request lands on a Region it was not written in (an
            MRAP routes without checking the object is there) (``MrapSet`` only). Default: False (a ``ValueError``).

    Existing objects are not replicated by live replication: S3 Batch Replication copies them
    (``S3ReplicateObject`` jobs with a manifest generated from the replication configuration). CloudFormation has no
    resource type for a Batch Operations job, so ``BatchReplicationBackfill`` (``MrapSet(backfill=...)``) creates one
    through a custom resource that calls ``s3control:CreateJob``.
    """

    delete_markers: bool = True
    replica_modifications: bool = True
    metrics: bool = True
    rtc: bool = False
    storage_class: str | None = None
    prefix: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    mode: ReplicationMode | str = ReplicationMode.FULL_MESH
    source_region: str | None = None
    kms: bool | None = None
    acknowledge_filtered_404s: bool = False

    def rule_problems(self) -> list[tuple[str, object, str]]:
        """``(field, value, rule)`` for every invalid rule setting (fields relative to these options): the one
        statement of these rules, for ``BucketReplication``, ``MrapSet`` and the app config alike."""
        found: list[tuple[str, object, str]] = []
        if self.rtc and not self.metrics:
            found.append(("rtc", self.rtc, "Replication Time Control needs metrics=True (it reports through "
                                           "replication metrics)"))
        if self.storage_class is not None and self.storage_class not in REPLICA_STORAGE_CLASSES:
            found.append(("storage_class", self.storage_class, f"use one of {sorted(REPLICA_STORAGE_CLASSES)}"))
        if self.tags and self.delete_markers:
            found.append(("delete_markers", self.delete_markers, TAG_FILTER_DELETE_MARKERS))
        return found

    def problems(self, problems: Problems) -> None:
        """Record every invalid rule setting into ``problems`` (as ``options.FIELD``)."""
        for field_name, value, rule in self.rule_problems():
            problems.add(f"options.{field_name}", value, rule)


@dataclass(frozen=True)
class ReplicationDestination:
    """One destination bucket of a replication configuration.

    Args:
        region: the destination bucket's Region.
        bucket_name: the destination bucket's name.
        account: the destination bucket's owner. Default: the source's account (no owner override).
            When given and different, replicas are handed to the destination owner (``AccessControlTranslation``).
        replica_kms_key_arn: key ARN or alias ARN of the destination's KMS key; objects encrypted with SSE-KMS
            are re-encrypted with it. Default: none (SSE-KMS objects are not replicated).
        owner_enforced: the destination bucket's Object Ownership is ``BucketOwnerEnforced`` (every bucket
            ``MrapBucket`` creates): its owner owns every replica without the owner override, so a cross-account rule
            sets no ``AccessControlTranslation`` and the role needs no ``s3:ObjectOwnerOverrideToBucketOwner`` (S3
            User Guide, "Changing the replica owner": the bucket owner enforced setting "mimics the existing owner
            override behavior without the need of the s3:ObjectOwnerOverrideToBucketOwner permission",
            https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-change-owner.html). Default: False
            (the owner override is set, and the destination's policy must grant the override to the role).
    """

    region: str
    bucket_name: str
    account: str | None = None
    replica_kms_key_arn: str | None = None
    owner_enforced: bool = False

    def overrides_owner(self, source_account: str | None) -> bool:
        """Whether the rule into this destination hands replicas to its owner with ``AccessControlTranslation``."""
        return bool(self.account) and self.account != source_account and not self.owner_enforced

    @property
    def bucket_arn(self) -> str:
        return f"arn:{region_partition(self.region)}:s3:::{self.bucket_name}"


def replication_rules(
    destinations: Sequence[ReplicationDestination],
    options: ReplicationOptions,
    *,
    source_account: str | None = None,
    sse_kms: bool = False,
) -> list[dict]:
    """Build the V2 replication rules (SDK shape) for one source bucket: one rule per destination.

    Rule ``Priority`` is 1..N in Region order and ``ID`` is ``to-{region}``, both stable across updates.

    Raises:
        ValueError: ``options`` that S3 would reject (see ``ReplicationOptions.problems``).
    """
    problems = Problems("replication_rules", "rules")
    options.problems(problems)
    problems.raise_if_any()
    rules = []
    for priority, dest in enumerate(sorted(destinations, key=lambda d: d.region), start=1):
        destination: dict = {"Bucket": dest.bucket_arn}
        if options.storage_class:
            destination["StorageClass"] = options.storage_class
        if dest.account and dest.account != source_account:
            destination["Account"] = dest.account
            if dest.overrides_owner(source_account):
                destination["AccessControlTranslation"] = {"Owner": "Destination"}
        if sse_kms and dest.replica_kms_key_arn:
            destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": dest.replica_kms_key_arn}
        if options.metrics:
            destination["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": RTC_MINUTES}}
        if options.rtc:
            destination["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": RTC_MINUTES}}
        selection: dict = {}
        if options.replica_modifications:
            selection["ReplicaModifications"] = {"Status": "Enabled"}
        if sse_kms:
            selection["SseKmsEncryptedObjects"] = {"Status": "Enabled"}
        rule: dict = {
            "ID": rule_id(dest.region),
            "Priority": priority,
            "Status": "Enabled",
            "Filter": _filter(options),
            "DeleteMarkerReplication": {"Status": "Enabled" if options.delete_markers else "Disabled"},
            "Destination": destination,
        }
        if selection:
            rule["SourceSelectionCriteria"] = selection
        rules.append(rule)
    return rules


def _filter(options: ReplicationOptions) -> dict:
    tags = [{"Key": k, "Value": v} for k, v in sorted(options.tags.items())]
    if not tags:
        return {"Prefix": options.prefix}
    if len(tags) == 1 and not options.prefix:
        return {"Tag": tags[0]}
    return {"And": {"Prefix": options.prefix, "Tags": tags}} if options.prefix else {"And": {"Tags": tags}}


@dataclass(frozen=True)
class _SourceBucket:
    """The source bucket as the construct uses it: a name and ARNs (no imported-bucket construct needed)."""

    name: str
    arn: str

    @property
    def objects_arn(self) -> str:
        return f"{self.arn}/*"

    @classmethod
    def of(cls, bucket: s3.IBucket | str, stack: Stack) -> _SourceBucket:
        if isinstance(bucket, str):
            return cls(bucket, s3_bucket_arn(stack, bucket))
        return cls(bucket.bucket_name, bucket.bucket_arn)


class BucketReplication(Construct):
    """Applies a replication configuration to an existing, versioned bucket, and removes it on delete.

    Put it in a stack in the source bucket's Region that deploys after every destination bucket exists
    (the app's replication stacks). Creates one role for the source bucket, trusted by S3 (as AWS documents it:
    no condition, S3 sends no source keys when it assumes the role), allowed only the source, the exact destinations
    and, with SSE-KMS, decrypt with the source key and encrypt with each destination key via S3 only.

    Args:
        scope: parent construct, in the source bucket's Region.
        id: construct id.
        source_bucket: the bucket to replicate from: its name, or an ``s3.IBucket``. A name is enough (and cheaper
            to synthesize: no imported-bucket construct) when the bucket lives in another stack.
        destinations: where to replicate to, one ``ReplicationDestination`` per bucket. Empty: the bucket's
            replication configuration is removed (so switching a Region from source to non-source converges).
        options: rule settings. Default: ``ReplicationOptions()`` (delete markers, replica modifications and
            metrics on; RTC off).
        source_kms_key_arn: ARN of the source bucket's KMS key when it uses SSE-KMS. Default: None (SSE-S3).
        role: the replication role. Default: a new least-privilege role (None when there are no destinations).
        role_name: physical name of the created role; give one when destination buckets in other accounts must
            name the role in their policies. Default: generated by CloudFormation.

    Attributes:
        role, rules (the SDK-shaped rules), resource (the ``AwsCustomResource``).

    The custom resource also carries the source ``Bucket`` and the ``Rules`` as structured properties, so a test can
    assert on them: ``template.has_resource_properties("Custom::S3BucketReplication", {"Rules": Match.array_with([
    Match.object_like({"ID": "to-eu-west-1", "DeleteMarkerReplication": {"Status": "Enabled"}})])})``.

    Raises:
        ValueError: a destination that is the source, duplicate destination Regions,
            more than 1,000 rules, KMS keys without ``source_kms_key_arn``, or invalid options.

    Example:
        BucketReplication(stack, "Replication", source_bucket="a-us-east-1",
                          destinations=[ReplicationDestination(region="eu-west-1", bucket_name="a-eu-west-1")])
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_bucket: s3.IBucket | str,
        destinations: Sequence[ReplicationDestination],
        options: ReplicationOptions = ReplicationOptions(),
        source_kms_key_arn: str | None = None,
        role: iam.IRole | None = None,
        role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        source = _SourceBucket.of(source_bucket, stack)
        self._validate(id, source, destinations, options, source_kms_key_arn)
        sse_kms = source_kms_key_arn is not None
        self.rules: list[dict] = replication_rules(
            destinations, options, source_account=stack.account, sse_kms=sse_kms
        )
        self.role: iam.IRole | None = None
        self._role_policy: iam.ManagedPolicy | None = None
        if destinations:
            self.role = role or self._create_role(source, destinations, source_kms_key_arn, role_name)

        bucket_name = source.name
        physical_id = cr.PhysicalResourceId.of(f"{bucket_name}-replication")
        remove = cr.AwsSdkCall(
            service="S3", action="DeleteBucketReplication", parameters={"Bucket": bucket_name},
            physical_resource_id=physical_id,
        )
        statements = [
            iam.PolicyStatement(actions=list(_perms.REPLICATION_CONFIG_ACTIONS), resources=[source.arn])
        ]
        if self.role is not None:
            statements.append(iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.role.role_arn]))
            apply = cr.AwsSdkCall(
                service="S3",
                action="PutBucketReplication",
                parameters={
                    "Bucket": bucket_name,
                    "ReplicationConfiguration": {"Role": self.role.role_arn, "Rules": self.rules},
                },
                physical_resource_id=physical_id,
            )
        else:
            # No destinations: make sure the bucket replicates nowhere (converges after a mode switch).
            apply = remove
        self.resource = sdk_call_resource(
            self, "Resource", resource_type="Custom::S3BucketReplication", on_update=apply, on_delete=remove,
            statements=statements,
        )
        # The rules again as structured properties, so tests can match them (Template.has_resource_properties with
        # Match.object_like); the SDK-call handler reads only Create/Update/Delete and ignores these.
        cfn = self.resource.node.default_child.node.default_child
        cfn.add_property_override("Bucket", bucket_name)
        cfn.add_property_override("Rules", self.rules)
        # The configuration names the role: its policy must exist first and be deleted last.
        if self._role_policy is not None:
            self.resource.node.add_dependency(self._role_policy)

    def _validate(self, id, source, destinations, options, source_kms_key_arn) -> None:
        problems = Problems("BucketReplication", id)
        if len(destinations) > MAX_RULES:
            problems.add("destinations", len(destinations), f"S3 allows at most {MAX_RULES} rules per configuration")
        regions = [d.region for d in destinations]
        if len(set(regions)) != len(regions):
            problems.add("destinations", regions, "one destination per Region (priorities must be unique)")
        source_name = source.name
        for dest in destinations:
            if not is_unresolved(source_name) and dest.bucket_name == source_name:
                problems.add(f"destinations[{dest.region!r}]", dest.bucket_name, "source and destination must differ")
            if dest.replica_kms_key_arn and source_kms_key_arn is None:
                problems.add(f"destinations[{dest.region!r}].replica_kms_key_arn", dest.replica_kms_key_arn,
                             "KMS replication needs an SSE-KMS source: pass source_kms_key_arn")
            if source_kms_key_arn is not None and not dest.replica_kms_key_arn:
                problems.add(f"destinations[{dest.region!r}].replica_kms_key_arn", None,
                             "an SSE-KMS source needs the destination's KMS key to re-encrypt replicas")
        options.problems(problems)
        problems.raise_if_any()

    def _create_role(self, source: _SourceBucket, destinations: Sequence[ReplicationDestination],
                     source_kms_key_arn: str | None, role_name: str | None) -> iam.Role:
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "Role",
            description=f"S3 replication from {source.name}",
            role_name=role_name,
            # AWS's replication-role trust policy has no Condition, and no AWS source says S3 sends aws:SourceArn or
            # aws:SourceAccount when it assumes the role; a condition S3 does not satisfy would make every replication
            # fail silently. https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
        )
        # A managed policy (not inline) keeps NIST 800-53 IAMNoInlinePolicy satisfied without a suppression.
        policy = iam.ManagedPolicy(self, "RolePolicy", roles=[role],
                                   description=f"S3 replication from {source.name}")
        self._role_policy = policy
        policy.add_statements(iam.PolicyStatement(
            sid="ReadSourceConfiguration",
            actions=list(_perms.REPLICATION_SOURCE_BUCKET_ACTIONS),
            resources=[source.arn],
        ))
        policy.add_statements(iam.PolicyStatement(
            sid="ReadSourceObjectVersions",
            actions=list(_perms.REPLICATION_SOURCE_OBJECT_ACTIONS),
            resources=[source.objects_arn],
        ))
        destination_objects = [f"{d.bucket_arn}/*" for d in sorted(destinations, key=lambda d: d.region)]
        policy.add_statements(iam.PolicyStatement(
            sid="WriteReplicas",
            actions=list(_perms.REPLICATION_DESTINATION_ACTIONS),
            resources=destination_objects,
        ))
        account = stack.account  # one jsii round trip, not one per destination
        cross_account = [f"{d.bucket_arn}/*" for d in destinations if d.overrides_owner(account)]
        if cross_account:
            policy.add_statements(iam.PolicyStatement(
                sid="HandReplicasToDestinationOwner",
                actions=list(_perms.REPLICATION_OWNER_OVERRIDE_ACTIONS),
                resources=cross_account,
            ))
        if source_kms_key_arn:
            policy.add_statements(_kms_statement(
                "DecryptSourceObjects", "kms:Decrypt", source_kms_key_arn, stack.region, source.arn))
            for dest in sorted(destinations, key=lambda d: d.region):
                policy.add_statements(_kms_statement(
                    f"EncryptReplicas{dest.region.replace('-', '').title()}", "kms:Encrypt",
                    dest.replica_kms_key_arn or "", dest.region, dest.bucket_arn))
        _acknowledge_object_wildcards(policy, source, destinations)
        if source_kms_key_arn:
            _acknowledge_alias_key_wildcards(policy)
        return role


def _kms_statement(sid: str, action: str, key_arn: str, region: str, bucket_arn: str) -> iam.PolicyStatement:
    """Allow ``action`` with one key, only through S3 in ``region`` and only for ``bucket_arn``'s objects.

    The encryption context is the object ARN, or the bucket ARN when S3 Bucket Keys are on: both are allowed.
    """
    conditions: dict = {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
    }
    resources = [key_arn]
    if ":alias/" in key_arn:
        # An alias ARN cannot be a policy resource: allow the Region's keys that carry exactly this alias.
        prefix, alias = key_arn.split(":alias/", 1)
        resources = [f"{prefix}:key/*"]
        conditions["ForAnyValue:StringEquals"] = {"kms:ResourceAliases": f"alias/{alias}"}
    return iam.PolicyStatement(sid=sid, actions=[action], resources=resources, conditions=conditions)


def _acknowledge_object_wildcards(policy: iam.ManagedPolicy, source: _SourceBucket,
                                  destinations: Sequence[ReplicationDestination]) -> None:
    reason = ("Object-level replication actions are scoped to the objects of the exact source and destination "
              "buckets (bucket-arn/*); S3 has no narrower resource for them.")
    arns = [source.objects_arn] + [f"{d.bucket_arn}/*" for d in destinations]
    acknowledge_all(policy, {f"AwsSolutions-IAM5[Resource::{nag_rendering(arn)}]": reason for arn in arns})


def _acknowledge_alias_key_wildcards(policy: iam.ManagedPolicy) -> None:
    reason = ("A KMS key named by alias (deterministic across Regions) is matched as key/* in one Region and "
              "account, narrowed by kms:ResourceAliases, kms:ViaService and the bucket's encryption context.")
    findings = wildcard_findings(Stack.of(policy).resolve(policy.document))
    acknowledge_all(policy, {finding: reason for finding in findings if finding.endswith(":key/*]")})
