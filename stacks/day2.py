"""Day 2: what each config change does to a deployed set, and the guard that refuses the unsafe ones.

``KEY_CHANGES`` classifies every config key (the matrix; tests/unit/test_day2_matrix.py fails when a key of
``MrapConfig`` has no entry, and checks each classification against a synthesized diff):

* ``in place``: CloudFormation updates the deployed stacks; nothing that holds data is replaced or deleted. Stacks or
  retained resources a change leaves behind are printed with their delete commands (``left_behind``).
* ``two deploys``: in place, in two ``cdk deploy --all`` runs, each recorded (``python -m mrap_constructs.lock
  record``); the app picks the step from the lock. Only SSE-S3 to SSE-KMS: the rules must select SSE-KMS objects
  before any bucket encrypts with KMS, and the bucket stacks (wave 1) deploy before the rules (wave 2).
* ``guarded``: refused until ``allow_replacement`` is set, with the consequence spelled out (a new MRAP alias).
* ``refused``: refused whatever the config says, with the safe path (a deploy that cannot converge or that loses data).

The guard (``check``) compares the config with the deployed one recorded in the lock (``mrap_constructs.lock``):
a change is judged against what is deployed, not against the last synth.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mrap_constructs.lock import (
    ADOPT_CONTEXT_KEY,
    UNKNOWN_ACCOUNT,
    LockEntry,
    ReplacementError,
    find_entry,
    lock_key,
    pending_entry,
)
from mrap_constructs.mrap_set import stack_name_prefix
from mrap_constructs.stacks.cloudfront import CLOUDFRONT_STACK_REGION
from stacks.config import MrapConfig

IN_PLACE = "in place"
TWO_DEPLOYS = "two deploys"
GUARDED = "guarded"
REFUSED = "refused"

_BLUE_GREEN = ("blue/green: a new \"access_point_name\" with \"allow_replacement\": true creates the new MRAP beside "
               "the old one over the same buckets in one `cdk deploy --all`; move clients to the new alias, then "
               "delete the old MRAP with the printed command (docs/operations.md)")
_NEW_SET = ("deploy a separate set (a new \"name\" and \"bucket_prefix\", its own config file and lock), copy the "
            "objects (its \"existing_buckets\" + \"backfill\", or S3 Batch Replication), move clients to its alias, "
            "then delete this set's stacks")


@dataclass(frozen=True)
class KeyChange:
    """How a change of one config key reaches AWS: its class, what CloudFormation does, and the safe path."""

    kind: str
    on_aws: str
    safe_path: str = ""


#: Every config key (dotted path) -> what changing it does on AWS. Keys whose class depends on the direction or on
#: other keys are refined by ``check``; this is the class of the change the matrix makes from its base.
KEY_CHANGES: dict[str, KeyChange] = {
    "name": KeyChange(REFUSED, "names every stack (and, by default, the buckets and the MRAP): a new name is a new set "
                      "of stacks whose bucket and MRAP names are taken by the deployed ones; the old stacks stay",
                      "to rename the MRAP only, set access_point_name (blue/green); to start over, " + _NEW_SET),
    "access_point_name": KeyChange(GUARDED, "replaces the MRAP (Name: Replacement): the new one is created beside the "
                                   "old one, which is kept (UpdateReplacePolicy Retain) with its alias until deleted",
                                   _BLUE_GREEN),
    "regions": KeyChange(REFUSED, "MRAP Regions: Replacement, under the same name: CloudFormation cannot create the "
                         "new MRAP while the old one holds the name, the access-point stack rolls back",
                         _BLUE_GREEN),
    "account": KeyChange(REFUSED, "the account names the buckets, the MRAP ARN and the lock entry: a change is a new "
                         "set in another account, not a change to this one", "give the other account its own config "
                         "file (and lock), or list accounts in pipeline.accounts"),
    "home_region": KeyChange(REFUSED, "moves the access-point stack (and the MRAP policy stack) to another Region: a "
                             "new stack there creates an MRAP whose name is taken; the old stack stays",
                             "together with a new access_point_name and allow_replacement (blue/green); then delete "
                             "the old Region's stacks with the printed commands"),
    "bucket_prefix": KeyChange(REFUSED, "BucketName: Replacement of every bucket; cleanup then deletes the old "
                               "buckets' replication configuration and policy (retain) or every object version "
                               "(destroy) while the live MRAP still routes to them", _NEW_SET),
    "removal_policy": KeyChange(IN_PLACE, "DeletionPolicy/UpdateReplacePolicy of the buckets change (no update of the "
                                "bucket itself); destroy adds the auto-delete custom resource. KMS keys stay Retain"),
    "encryption": KeyChange(TWO_DEPLOYS, "to sse-kms: deploy 1 creates the keys and makes the rules select SSE-KMS "
                            "objects, deploy 2 switches the buckets' default encryption (in place); to sse-s3: in "
                            "place, the keys are kept (Retain) and printed"),
    "allow_replacement": KeyChange(IN_PLACE, "no template change: lets the guard accept a new access_point_name"),
    "lock_file": KeyChange(IN_PLACE, "no template change: the lock moves; a set known to be deployed with no entry "
                           "there is refused until recorded"),
    "replication.mode": KeyChange(IN_PLACE, "the replication custom resources update the rules "
                                  "(PutBucketReplication / DeleteBucketReplication); alarms follow"),
    "replication.source_region": KeyChange(IN_PLACE, "rules move to the new source (custom resources update)"),
    "replication.rtc": KeyChange(IN_PLACE, "rules updated"),
    "replication.metrics": KeyChange(IN_PLACE, "rules updated (alarms need metrics: both change together)"),
    "replication.kms": KeyChange(IN_PLACE, "rules select SSE-KMS objects or not; the role's KMS grants follow"),
    "replication.delete_markers": KeyChange(IN_PLACE, "rules updated"),
    "replication.replica_modifications": KeyChange(IN_PLACE, "rules updated"),
    "replication.storage_class": KeyChange(IN_PLACE, "rules updated (new replicas only)"),
    "replication.prefix": KeyChange(IN_PLACE, "rules updated (objects outside the prefix stop replicating)"),
    "replication.tags": KeyChange(IN_PLACE, "rules updated (objects without the tags stop replicating)"),
    "failover.active": KeyChange(IN_PLACE, "the routes custom resource submits the changed dials"),
    "failover.passive": KeyChange(IN_PLACE, "the routes custom resource submits the changed dials"),
    "failover.routes_region": KeyChange(IN_PLACE, "the routes custom resource calls another Region"),
    "failover.require_in_sync": KeyChange(IN_PLACE, "a property of the routes custom resource"),
    "failover.accept_unreplicated_writes": KeyChange(IN_PLACE, "no template change: acknowledges an active Region "
                                                     "whose writes never replicate"),
    "monitoring.dashboard": KeyChange(IN_PLACE, "the dashboard is created or deleted"),
    "monitoring.alarms": KeyChange(IN_PLACE, "alarms and their topics are created or deleted"),
    "monitoring.alarms_per_rule": KeyChange(IN_PLACE, "alarms replaced by others (no data)"),
    "monitoring.alarm_email": KeyChange(IN_PLACE, "the subscription is replaced"),
    "monitoring.access_logs": KeyChange(IN_PLACE, "off: logging stops; the log buckets (Retain) leave the stacks and "
                                        "are printed"),
    "monitoring.cloudtrail": KeyChange(IN_PLACE, "off: the trail is deleted; its buckets, key and log group (Retain) "
                                       "leave the stack and are printed"),
    "monitoring.request_metrics": KeyChange(IN_PLACE, "bucket metrics configuration updated"),
    "monitoring.thresholds.failed_operations": KeyChange(IN_PLACE, "alarms updated"),
    "monitoring.thresholds.latency_seconds": KeyChange(IN_PLACE, "alarms updated"),
    "monitoring.thresholds.pending_operations": KeyChange(IN_PLACE, "alarms updated"),
    "monitoring.thresholds.pending_bytes": KeyChange(IN_PLACE, "alarms updated"),
    "monitoring.thresholds.evaluation_periods": KeyChange(IN_PLACE, "alarms updated"),
    "privatelink.regions": KeyChange(IN_PLACE, "a new Region's stack is created; a Region left keeps its stack "
                                     "deployed (and billed): printed with its delete command"),
    "privatelink.vpc_cidr": KeyChange(IN_PLACE, "CidrBlock: Replacement of the VPC, subnets and endpoint (new endpoint "
                                      "id; the restricted policy reads it again); no data"),
    "privatelink.restrict_to_endpoints": KeyChange(IN_PLACE, "the MRAP policy moves between the access-point stack and "
                                                   "the policy stack; every policy resource is Retain and the new "
                                                   "owner rewrites it (policy generation); off: the policy stack is "
                                                   "printed with its delete command"),
    "privatelink.availability_zones": KeyChange(IN_PLACE, "subnets replaced (AvailabilityZone: Replacement); no data"),
    "bucket_accounts": KeyChange(REFUSED, "the owner account is part of the bucket name: BucketName: Replacement and "
                                 "MRAP Regions: Replacement", _NEW_SET),
    "existing_buckets": KeyChange(REFUSED, "the MRAP's bucket in that Region changes (Regions: Replacement, same name: "
                                  "stuck); the created bucket's stack leaves the app", _BLUE_GREEN),
    "pipeline.repository": KeyChange(REFUSED, "adding or removing the pipeline block: a pipeline deploys the set as "
                                     "stage stacks named after the stage, new stacks whose bucket and MRAP names are "
                                     "taken by the deployed ones (and the other way round, the app's stacks)",
                                     "keep the deployed account out of pipeline.accounts (deploy it as it is), or "
                                     "start the pipeline's accounts as new sets"),
    "pipeline.branch": KeyChange(REFUSED, "as pipeline.repository", "as pipeline.repository"),
    "pipeline.connection_arn": KeyChange(REFUSED, "as pipeline.repository", "as pipeline.repository"),
    "pipeline.accounts": KeyChange(REFUSED, "as pipeline.repository", "as pipeline.repository"),
    "pipeline.account": KeyChange(REFUSED, "as pipeline.repository", "as pipeline.repository"),
    "pipeline.region": KeyChange(REFUSED, "as pipeline.repository", "as pipeline.repository"),
    "backfill": KeyChange(IN_PLACE, "backfill stacks created (a Batch Replication job) or left behind (printed)"),
    "backfill_key": KeyChange(IN_PLACE, "a new key starts a new job"),
    "existing_bucket_keys": KeyChange(IN_PLACE, "the replication and backfill roles' kms:Decrypt grant and the replica "
                                                "key of the rules into the adopted bucket are updated"),
    "bucket_account_readers": KeyChange(IN_PLACE, "the reader roles' trust policies are updated"),
    "replication.acknowledge_filtered_404s": KeyChange(IN_PLACE, "synth-time only: no resource changes"),
    "monitoring.cloudtrail_management_events": KeyChange(IN_PLACE, "the trail's event selector is updated"),
    "cloudfront.enabled": KeyChange(IN_PLACE, "on: the CloudFront stack is created and takes the MRAP policy; off: "
                                    "the access-point stack rewrites the policy and the CloudFront stack is printed "
                                    "with its delete command"),
    "cloudfront.price_class": KeyChange(IN_PLACE, "distribution updated (or created with the block)"),
    "cloudfront.default_root_object": KeyChange(IN_PLACE, "distribution updated (or created with the block)"),
    "cloudfront.domain_names": KeyChange(IN_PLACE, "distribution updated (or created with the block)"),
    "cloudfront.certificate_arn": KeyChange(IN_PLACE, "distribution updated (or created with the block)"),
    "cloudfront.logging": KeyChange(IN_PLACE, "off: the log bucket (Retain) leaves the stack"),
    "cloudfront.web_acl_id": KeyChange(IN_PLACE, "distribution updated (or created with the block)"),
}


def config_keys(model: type[BaseModel] = MrapConfig, prefix: str = "") -> list[str]:
    """Every leaf key of the config model, dotted (``monitoring.thresholds.pending_bytes``): what the matrix covers."""
    keys = []
    for name, info in model.model_fields.items():
        sub = next((c for c in (info.annotation, *typing.get_args(info.annotation))
                    if isinstance(c, type) and issubclass(c, BaseModel)), None)
        keys += config_keys(sub, f"{prefix}{name}.") if sub is not None else [f"{prefix}{name}"]
    return keys


def flatten(config: MrapConfig) -> dict[str, Any]:
    """``{dotted key: value}`` of ``config`` (a block that is absent gives None for each of its keys)."""
    dump = config.model_dump(mode="json")
    flat: dict[str, Any] = {}
    for key in config_keys():
        value: Any = dump
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        flat[key] = value
    return flat


def policy_owner(config: MrapConfig) -> str:
    """The stack that writes the MRAP policy: ``cloudfront``, ``policy`` (restrict_to_endpoints) or ``access-point``."""
    if config.cloudfront_enabled:
        return "cloudfront"
    if config.privatelink and config.privatelink.restrict_to_endpoints:
        return "policy"
    return "access-point"


@dataclass
class Verdict:
    """What ``check`` decided: refusals (problems), the notes to print, and the ``MrapSet`` props the deployed state
    implies (``kms_default_encryption``, ``policy_generation``), and the state to record after the deploy."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    props: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _refuse(key: str, before: Any, after: Any, change: KeyChange, why: str | None = None) -> str:
    return (f"{key}: {before!r} -> {after!r} is refused for a deployed set: {why or change.on_aws}. "
            f"Safe path: {change.safe_path or 'revert the change'}.")


def check(deployed: MrapConfig | None, config: MrapConfig, state: dict | None = None) -> Verdict:
    """Judge ``config`` against the ``deployed`` one (None: nothing deployed, or a lock from an earlier release that
    did not record the config) and its recorded ``state``."""
    state = dict(state or {})
    verdict = Verdict()
    owner = policy_owner(config)
    generation = int(state.get("policy_generation", 0))
    if deployed is not None and state.get("policy_owner", policy_owner(deployed)) != owner:
        generation += 1  # the new owner rewrites the policy even if its stack is deployed with an older template
    verdict.props["policy_generation"] = generation
    kms_default = True
    if config.encryption == "sse-kms" and config.replication_kms and deployed is not None:
        # Buckets not yet encrypting with KMS by default: deploy 1 of 2 (keys, and rules selecting SSE-KMS objects)
        # until a deploy of those rules is recorded (state kms_rules), then deploy 2 switches the buckets.
        already = deployed.encryption == "sse-kms" and state.get("kms_default_encryption", True)
        kms_default = bool(already) or (deployed.encryption == "sse-kms" and bool(state.get("kms_rules")))
    verdict.props["kms_default_encryption"] = kms_default
    verdict.state = {"policy_owner": owner, "policy_generation": generation, "kms_default_encryption": kms_default,
                     "kms_rules": config.replication_kms and config.encryption == "sse-kms"}
    if deployed is None:
        return verdict
    before, after = flatten(deployed), flatten(config)
    verdict.changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    new_mrap = deployed.effective_access_point_name != config.effective_access_point_name
    for key, (old, new) in verdict.changed.items():
        change = KEY_CHANGES[key]
        if key == "bucket_prefix" and deployed.effective_bucket_prefix == config.effective_bucket_prefix:
            continue  # written out or left to its default: the same buckets
        if key == "regions" and sorted(old) == sorted(new):
            continue  # reordered: the MRAP sorts its Regions
        if key in ("regions", "existing_buckets", "home_region") and new_mrap:
            continue  # blue/green: the MRAP guard (mrap_constructs.lock, allow_replacement) judges it
        if key.startswith("pipeline.") and (deployed.pipeline is None) == (config.pipeline is None):
            continue  # a pipeline's own settings: its stack updates; the stage stacks keep their names
        if key.startswith("pipeline.") and key != "pipeline.repository":
            continue  # the block came or went: one message (under pipeline.repository) says it
        if key == "account" and (old is None or new is None):
            continue  # the entry is keyed by the account: an account written out or resolved is the same one
        if change.kind == REFUSED:
            verdict.problems.append(_refuse(key, old, new, change))
    if not kms_default:
        verdict.notes.append(
            "encryption: 'sse-s3' -> 'sse-kms' is deploy 1 of 2: the keys are created and the replication rules select "
            "SSE-KMS objects, the buckets keep SSE-S3 as default encryption (otherwise objects written between the "
            "bucket stacks and the replication stacks would be SSE-KMS and never replicate). After this deploy "
            "succeeds, run `python -m mrap_constructs.lock record`, then `cdk deploy --all` again to switch the "
            "buckets to SSE-KMS.")
    if generation != int(state.get("policy_generation", 0)):
        verdict.notes.append(
            f"the MRAP policy moves from the {state.get('policy_owner', policy_owner(deployed))} stack to the {owner} "
            f"stack (policy generation {generation}: its statement ids change, so that stack rewrites the policy "
            "even if it is still deployed from before; the old policy resource is Retain, so nothing resets it).")
    verdict.notes += left_behind(deployed, config)
    return verdict


def _delete(stack: str, region: str) -> str:
    return f"aws cloudformation delete-stack --region {region} --stack-name {stack}"


def left_behind(deployed: MrapConfig, config: MrapConfig) -> list[str]:
    """Notes naming what a change leaves deployed (stacks that left the app, retained resources that left a stack),
    with the commands that delete them. Region removal is ``orphaned_stack_commands``'s (from the lock)."""
    prefix = stack_name_prefix(config.name)
    notes = []
    old_pl = set(deployed.privatelink.regions) if deployed.privatelink else set()
    new_pl = set(config.privatelink.regions) if config.privatelink else set()
    for region in sorted(old_pl - new_pl):
        notes.append(f"privatelink: {region} left privatelink.regions; its VPC and endpoint stay deployed (and billed) "
                     f"until you delete the stack: {_delete(f'{prefix}-privatelink-{region}', region)}")
    was_restricted = bool(deployed.privatelink and deployed.privatelink.restrict_to_endpoints)
    if was_restricted and not (config.privatelink and config.privatelink.restrict_to_endpoints):
        notes.append("privatelink.restrict_to_endpoints: off; the wave-4 policy stack stays deployed (its policy "
                     "resource is Retain: deleting the stack leaves the MRAP policy this deploy wrote): "
                     + _delete(f"{prefix}-access-point-policy", deployed.home_region))
    if deployed.cloudfront_enabled and not config.cloudfront_enabled:
        notes.append("cloudfront: off; the CloudFront stack stays deployed (the distribution keeps serving cached "
                     "objects; the MRAP policy no longer admits it): "
                     + _delete(f"{prefix}-cloudfront", CLOUDFRONT_STACK_REGION)
                     + " (its log bucket is Retain: empty and delete it afterwards)")
    resources = ("aws cloudformation list-stack-resources --region {region} --stack-name {stack} "
                 "--query \"StackResourceSummaries[?{query}].[LogicalResourceId,PhysicalResourceId]\"")
    if deployed.monitoring.cloudtrail and not config.monitoring.cloudtrail:
        notes.append("monitoring.cloudtrail: off; the trail is deleted, its two buckets, key and log group are "
                     "retained and leave the stack. List them BEFORE this deploy: "
                     + resources.format(region=deployed.home_region, stack=f"{prefix}-access-point",
                                        query="starts_with(LogicalResourceId, 'Trail')")
                     + "; then `aws s3 rb s3://BUCKET --force`, `aws logs delete-log-group --log-group-name NAME`, "
                     "`aws kms schedule-key-deletion --key-id ID` once the logs are gone")
    if deployed.monitoring.access_logs and not config.monitoring.access_logs:
        notes.append("monitoring.access_logs: off; each Region's access-log bucket is retained and leaves its stack. "
                     "List them BEFORE this deploy: " + resources.format(
                         region="REGION", stack=f"{prefix}-bucket-REGION",
                         query="starts_with(LogicalResourceId, 'AccessLogs')")
                     + "; then `aws s3 rb s3://BUCKET --force` when the logs are no longer needed")
    if deployed.encryption == "sse-kms" and config.encryption != "sse-kms":
        notes.append("encryption: sse-kms -> sse-s3; every Region's KMS key is kept (Retain: objects and replicas "
                     "written before stay encrypted under it, and KMS deletion would make them unreadable for good). "
                     "Its alias is deleted; find the key BEFORE this deploy: " + resources.format(
                         region="REGION", stack=f"{prefix}-bucket-REGION",
                         query="ResourceType=='AWS::KMS::Key'")
                     + "; schedule its deletion (`aws kms schedule-key-deletion --key-id ID`) only once no object "
                     "version is encrypted under it")
    lost_alarms = sorted(_alarm_sources(deployed) - _alarm_sources(config))
    if lost_alarms:
        notes.append(f"alarms: the replication alarms of {', '.join(lost_alarms)} are deleted; each one's topic key is "
                     "retained (every key of this library is) though it only encrypted notifications in flight. Find "
                     "them BEFORE this deploy: " + resources.format(
                         region="REGION", stack=f"{prefix}-replication-REGION",
                         query="ResourceType=='AWS::KMS::Key'")
                     + "; then `aws kms schedule-key-deletion --key-id ID`")
    old_backfill = _backfill_regions(deployed)
    for region in sorted(old_backfill - _backfill_regions(config)):
        notes.append(f"backfill: {region} no longer backfills; its stack stays deployed (report bucket Retain): "
                     + _delete(f"{prefix}-backfill-{region}", region))
    for region in sorted(set(config.existing_buckets) - set(deployed.existing_buckets)):
        if region in deployed.regions:
            notes.append(f"existing_buckets: {region} now uses {config.existing_buckets[region]}; the bucket stack "
                         f"{prefix}-bucket-{region} stays deployed with its bucket (Retain)")
    if deployed.home_region != config.home_region:
        old = [f"{prefix}-access-point"] + ([f"{prefix}-access-point-policy"] if was_restricted else [])
        notes.append(f"home_region: {deployed.home_region} -> {config.home_region}; the stacks in "
                     f"{deployed.home_region} stay deployed (the old MRAP is in one of them, Retain): "
                     + "; ".join(_delete(stack, deployed.home_region) for stack in reversed(old)))
    return notes


def _alarm_sources(config: MrapConfig) -> set[str]:
    """Regions whose replication stack has alarms (and so an alarm topic key)."""
    from mrap_constructs.mrap_set import has_replication_stacks
    from mrap_constructs.replication import replication_plan

    if not (config.monitoring.alarms and config.replication.metrics and has_replication_stacks(config.regions)):
        return set()
    plan = replication_plan(config.regions, config.replication_mode, config.replication.source_region)
    return {region for region, destinations in plan.items() if destinations}


def _backfill_regions(config: MrapConfig) -> set[str]:
    from mrap_constructs.mrap_set import backfill_sources
    from mrap_constructs.replication import replication_plan

    plan = replication_plan(config.regions, config.replication_mode, config.replication.source_region)
    return set(backfill_sources(existing_buckets=config.existing_buckets, plan=plan, backfill=config.backfill))


def retire_commands(deployed_mrap: str | None, config: MrapConfig, account: str | None) -> list[str]:
    """After a blue/green replacement (a new access_point_name), the command that deletes the old MRAP once clients
    use the new alias (the old one is kept: UpdateReplacePolicy Retain)."""
    if not deployed_mrap or deployed_mrap == config.effective_access_point_name:
        return []
    return [f"aws s3control delete-multi-region-access-point --region us-west-2 --account-id {account or 'ACCOUNT'} "
            f"--details Name={deployed_mrap}"]


# --- the guard the app runs at every synth ---------------------------------------------------------------------------


@dataclass
class Guarded:
    """``guard``'s result: the verdict, the deployed entry it was judged against (None: first deploy) and the key."""

    verdict: Verdict
    entry: LockEntry | None
    key: str
    deployed: MrapConfig | None = None


def guard(config: MrapConfig, *, entries: dict[str, LockEntry], lock_path: Path, account: str | None,
          outputs_file: Path | None = None, pipeline: bool = False, config_file: str | None = None) -> Guarded:
    """Judge ``config`` (for ``account``) against its entry in the lock; raise ``ReplacementError`` listing every
    refusal (key, consequence, safe path)."""
    key = lock_key(config.name, account)
    entry = find_entry(entries, config.name, account, [config.effective_access_point_name])
    problems: list[str] = []
    deployed = None
    if entry is None:
        problems += _missing_entry(config, entries, account, outputs_file, lock_path, pipeline, config_file)
    elif entry.config is not None:
        try:
            deployed = MrapConfig.model_validate(entry.config)
        except ValidationError as err:
            problems.append(f"{lock_path}: the entry {entry.key} records a config this release cannot read "
                            f"({err.error_count()} problems): it was written by another release; record the deployed "
                            f"config again with `cdk synth -c {ADOPT_CONTEXT_KEY}=adopt`")
    verdict = check(deployed, config, entry.state if entry else None)
    problems += verdict.problems
    if problems:
        raise ReplacementError([f"mrap: {key}: this config cannot be deployed over what {lock_path} records as "
                                "deployed:"] + [f"  {p}" for p in problems])
    return Guarded(verdict, entry, key, deployed)


def _missing_entry(config: MrapConfig, entries: dict[str, LockEntry], account: str | None, outputs_file: Path | None,
                   lock_path: Path, pipeline: bool, config_file: str | None) -> list[str]:
    config_arg = f" -c config={config_file}" if config_file else ""
    adopt = f"`npx cdk synth{config_arg} -c {ADOPT_CONTEXT_KEY}=adopt`"
    stack = f"{stack_name_prefix(config.name)}-access-point"
    if outputs_file is not None and outputs_file.exists():
        try:
            outputs = json.loads(outputs_file.read_text())
        except json.JSONDecodeError:
            outputs = {}
        arn = (outputs.get(stack) or {}).get("MrapArn", "")
        if stack in outputs and (account is None or f":{account}:" in arn):
            return [f"{lock_path} has no entry for {lock_key(config.name, account)}, but {outputs_file} shows the set "
                    f"deployed (stack {stack}, {arn or 'no ARN'}): without the entry no change can be checked against "
                    f"what is deployed. If this config is what is deployed, recreate the entry with {adopt}; "
                    "otherwise check out the deployed config, adopt it, then apply the change."]
    if pipeline or entries.get(lock_key(config.name, account)):
        return []
    same_account = [e for k, e in entries.items() if not k.startswith("*/") and k.split("/", 1)[0] == (
        account or UNKNOWN_ACCOUNT)]
    if len(same_account) == 1 and len(entries) == 1:
        old = same_account[0].key.split("/", 1)[1]
        return [_refuse("name", old, config.name, KEY_CHANGES["name"])
                + f" (If this is a separate set, give it its own config file or lock_file; {lock_path} records {old}.)"]
    other_accounts = sorted(k.split("/", 1)[0] for k in entries if k.split("/", 1)[1] == config.name
                            and not k.startswith("*/"))
    if other_accounts and config.account is not None:
        return [_refuse("account", other_accounts[0], config.account, KEY_CHANGES["account"])]
    return []


def pending_for(deployment: Any, config: MrapConfig, guarded: Guarded, lock_path: Path,
                create_only: dict) -> dict:
    """What ``mrap_constructs.lock record`` promotes after the deploy: the entry, and the outputs that prove each
    stack deployed (the access-point stack must name this MRAP; bucket stacks their buckets, when resolved)."""
    from aws_cdk import Token

    expect: dict[str, dict[str, str | None]] = {}
    for stack in deployment.stacks:
        expect[stack.stack_name] = {}
    expect[deployment.access_point_stack.stack_name] = {"MrapName": config.effective_access_point_name}
    for region, stack in deployment.bucket_stacks.items():
        name = deployment.bucket_names[region]
        expect[stack.stack_name] = {"BucketName": None if Token.is_unresolved(name) else name}
    return pending_entry(guarded.key, create_only, config.model_dump(mode="json"), guarded.verdict.state, expect,
                         lock_path)
