"""The day-2 change matrix: every config key, changed from a realistic deployed base and back, synthesized and diffed
against the base; what CloudFormation then does is read from its resource reference ("Update requires") and the
classification (``stacks.day2.KEY_CHANGES``: in place / two deploys / guarded / refused) is asserted against the
diff and against the guard (``stacks.day2.check``). A config key without a matrix entry fails here.

Base: 3 Regions, full mesh, SSE-KMS, alarms, failover with one active Region, PrivateLink in one Region.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mrap_constructs.lock import LockEntry, ReplacementError, enforce_lock
from stacks.app_builder import MrapDeployment
from stacks.config import parse_config
from stacks.day2 import GUARDED, IN_PLACE, KEY_CHANGES, REFUSED, TWO_DEPLOYS, check, config_keys
from stacks.pipeline_stack import build_pipeline
from tests.conftest import ACCOUNT, FEATURE_FLAGS, ROOT

#: What CloudFormation does when a property changes ("Update requires: Replacement"), for the properties this app's
#: changes touch, per resource type, with the reference page it comes from. A replaced resource is created new and
#: the old one deleted in the cleanup phase (unless its UpdateReplacePolicy is Retain).
UPDATE_REQUIRES_REPLACEMENT: dict[str, tuple[set[str], str]] = {
    "AWS::S3::Bucket": ({"BucketName", "ObjectLockEnabled"},
                        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html"),
    # Every property of an MRAP is create-only.
    "AWS::S3::MultiRegionAccessPoint": (
        {"Name", "Regions", "PublicAccessBlockConfiguration"},
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-multiregionaccesspoint.html"),
    "AWS::S3::MultiRegionAccessPointPolicy": (
        {"MrapName"},
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
        "aws-resource-s3-multiregionaccesspointpolicy.html"),
    "AWS::KMS::Key": ({"KeySpec", "KeyUsage"},
                      "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html"),
    "AWS::KMS::Alias": ({"AliasName"},
                        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-alias.html"),
    "AWS::EC2::VPC": ({"CidrBlock"},
                      "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-vpc.html"),
    "AWS::EC2::Subnet": ({"AvailabilityZone", "CidrBlock", "VpcId"},
                         "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-subnet.html"),
    "AWS::CloudTrail::Trail": ({"TrailName"}, "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
                                              "aws-resource-cloudtrail-trail.html"),
    # The replication custom resource's physical id is "{bucket}-replication" (mrap_constructs/replication.py): a new
    # bucket gives a new physical id, and CloudFormation then sends Delete for the old one in the cleanup phase
    # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html), which
    # runs DeleteBucketReplication on the old bucket.
    "Custom::S3BucketReplication": ({"Bucket"},
                                    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/"
                                    "crpg-ref-requesttypes-update.html"),
}
#: Resources that hold data or decide who reaches it: never replaced or deleted by an in-place change.
DATA = {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::S3::MultiRegionAccessPoint", "AWS::S3::MultiRegionAccessPointPolicy",
        "Custom::S3BucketReplication"}

BASE: dict[str, Any] = {
    "name": "media", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
    "encryption": "sse-kms", "failover": {"active": ["us-east-1"]},
    "privatelink": {"regions": ["eu-west-1"], "availability_zones": {"eu-west-1": ["eu-west-1a", "eu-west-1b"]}},
}
_PIPELINE = {"repository": "acme/media", "connection_arn": "arn:aws:codestar-connections:us-west-2:111111111111:"
             "connection/abc", "accounts": [ACCOUNT], "account": "999999999999"}
_CDN = {"domain_names": ["media.example.com"],
        "certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/abc"}


#: The adopted bucket's own key (an SSE-KMS set names it: existing_bucket_keys).
LEGACY_KEY = "arn:aws:kms:ap-southeast-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _set(path: str, value: Any, **also: Any) -> Callable[[dict], None]:
    def patch(config: dict) -> None:
        for key, val in {path: value, **also}.items():
            *parents, leaf = key.split(".")
            node = config
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = val
    return patch


@dataclass(frozen=True)
class Case:
    """One row: the change from the base, the class of the change and of its way back."""

    patch: Callable[[dict], None]
    forward: str
    back: str = IN_PLACE
    #: The guard refuses it at config validation already (pydantic), not only against the deployed config.
    notes: tuple[str, ...] = field(default_factory=tuple)


CASES: dict[str, Case] = {
    "name": Case(_set("name", "media2"), REFUSED, REFUSED),
    "access_point_name": Case(_set("access_point_name", "media-v2", allow_replacement=True), GUARDED, GUARDED),
    "regions": Case(_set("regions", ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]), REFUSED, REFUSED),
    "account": Case(_set("account", "222222222222"), REFUSED, REFUSED),
    "home_region": Case(_set("home_region", "us-east-1"), REFUSED, REFUSED),
    "bucket_prefix": Case(_set("bucket_prefix", "media-data"), REFUSED, REFUSED),
    "removal_policy": Case(_set("removal_policy", "destroy"), IN_PLACE),
    "encryption": Case(_set("encryption", "sse-s3"), IN_PLACE, TWO_DEPLOYS),
    "allow_replacement": Case(_set("allow_replacement", True), IN_PLACE),
    "lock_file": Case(_set("lock_file", "other.lock.json"), IN_PLACE),
    "replication.mode": Case(_set("replication.mode", "one-way"), IN_PLACE),
    "replication.source_region": Case(_set("replication.mode", "one-way", **{"replication.source_region": "us-east-1"}),
                                      IN_PLACE),
    "replication.rtc": Case(_set("replication.rtc", True), IN_PLACE),
    "replication.metrics": Case(_set("replication.metrics", False, **{"monitoring.alarms": False}), IN_PLACE),
    "replication.kms": Case(_set("replication.kms", False), IN_PLACE),
    "replication.delete_markers": Case(_set("replication.delete_markers", False), IN_PLACE),
    "replication.replica_modifications": Case(_set("replication.replica_modifications", False), IN_PLACE),
    "replication.storage_class": Case(_set("replication.storage_class", "STANDARD_IA"), IN_PLACE),
    "replication.prefix": Case(_set("replication.prefix", "media/"), IN_PLACE),
    "replication.tags": Case(_set("replication.tags", {"replicate": "yes"}, **{"replication.delete_markers": False}),
                             IN_PLACE),
    "failover.active": Case(_set("failover.active", ["us-east-1", "eu-west-1"]), IN_PLACE),
    "failover.passive": Case(_set("failover.passive", ["ap-southeast-2", "eu-west-1"]), IN_PLACE),
    "failover.routes_region": Case(_set("failover.routes_region", "eu-west-1"), IN_PLACE),
    "failover.require_in_sync": Case(_set("failover.require_in_sync", False), IN_PLACE),
    "failover.accept_unreplicated_writes": Case(_set("failover.accept_unreplicated_writes", True), IN_PLACE),
    "monitoring.dashboard": Case(_set("monitoring.dashboard", False), IN_PLACE),
    "monitoring.alarms": Case(_set("monitoring.alarms", False), IN_PLACE),
    "monitoring.alarms_per_rule": Case(_set("monitoring.alarms_per_rule", True), IN_PLACE),
    "monitoring.alarm_email": Case(_set("monitoring.alarm_email", "ops@example.com"), IN_PLACE),
    "monitoring.access_logs": Case(_set("monitoring.access_logs", False), IN_PLACE),
    "monitoring.cloudtrail": Case(_set("monitoring.cloudtrail", True), IN_PLACE),
    "monitoring.request_metrics": Case(_set("monitoring.request_metrics", True), IN_PLACE),
    "monitoring.thresholds.failed_operations": Case(_set("monitoring.thresholds.failed_operations", 5.0), IN_PLACE),
    "monitoring.thresholds.latency_seconds": Case(_set("monitoring.thresholds.latency_seconds", 300.0), IN_PLACE),
    "monitoring.thresholds.pending_operations": Case(_set("monitoring.thresholds.pending_operations", 10.0), IN_PLACE),
    "monitoring.thresholds.pending_bytes": Case(_set("monitoring.thresholds.pending_bytes", 1e9), IN_PLACE),
    "monitoring.thresholds.evaluation_periods": Case(_set("monitoring.thresholds.evaluation_periods", 3), IN_PLACE),
    "privatelink.regions": Case(_set("privatelink", {"regions": ["ap-southeast-2"], "availability_zones": {
        "ap-southeast-2": ["ap-southeast-2a", "ap-southeast-2b"]}}), IN_PLACE),
    "privatelink.vpc_cidr": Case(_set("privatelink.vpc_cidr", "10.30.0.0/16"), IN_PLACE),
    "privatelink.restrict_to_endpoints": Case(_set("privatelink.restrict_to_endpoints", True), IN_PLACE),
    "privatelink.availability_zones": Case(_set("privatelink.availability_zones",
                                                {"eu-west-1": ["eu-west-1b", "eu-west-1c"]}), IN_PLACE),
    "bucket_accounts": Case(_set("bucket_accounts", {"eu-west-1": "333333333333"}, encryption="sse-s3"),
                            REFUSED, REFUSED),
    "existing_buckets": Case(_set("existing_buckets", {"ap-southeast-2": "legacy-media-apse2"},
                                  existing_bucket_keys={"ap-southeast-2": LEGACY_KEY}), REFUSED, REFUSED),
    **{f"pipeline.{key}": Case(_set("pipeline", _PIPELINE), REFUSED, REFUSED)
       for key in ("repository", "branch", "connection_arn", "accounts", "account", "region")},
    "backfill": Case(_set("backfill", False), IN_PLACE),
    "backfill_key": Case(_set("backfill_key", "second"), IN_PLACE),
    "existing_bucket_keys": Case(_set("existing_bucket_keys", {}), IN_PLACE),
    "bucket_account_readers": Case(_set("bucket_account_readers", []), IN_PLACE),
    "replication.acknowledge_filtered_404s": Case(_set("replication.acknowledge_filtered_404s", True), IN_PLACE),
    "monitoring.cloudtrail_management_events": Case(_set("monitoring.cloudtrail_management_events", True),
                                                     IN_PLACE),
    "cloudfront.enabled": Case(_set("cloudfront", {"enabled": True}), IN_PLACE),
    "cloudfront.price_class": Case(_set("cloudfront", {"price_class": "PriceClass_100"}), IN_PLACE),
    "cloudfront.default_root_object": Case(_set("cloudfront", {"default_root_object": "index.html"}), IN_PLACE),
    "cloudfront.domain_names": Case(_set("cloudfront", _CDN), IN_PLACE),
    "cloudfront.certificate_arn": Case(_set("cloudfront", _CDN), IN_PLACE),
    "cloudfront.logging": Case(_set("cloudfront", {"logging": False}), IN_PLACE),
    "cloudfront.web_acl_id": Case(_set("cloudfront", {"web_acl_id": "arn:aws:wafv2:us-east-1:111111111111:global/"
                                                                    "webacl/media/abc"}), IN_PLACE),
}


def changed(key: str) -> dict:
    config = copy.deepcopy(BASE)
    CASES[key].patch(config)
    return config


# --- synthesizing and diffing ---------------------------------------------------------------------------------------

#: {(stack name, Region): template}
Templates = dict[tuple[str, str], dict]
_SYNTHS: dict[str, Templates] = {}


def _stack_templates(directory: Path) -> Iterator[tuple[str, str, dict]]:
    """(stack name, Region, template) of every stack in the cloud assembly at ``directory`` and the assemblies nested
    in it (a pipeline's stages), read from its manifest and files: one file read per template, not a round trip to
    the jsii runtime per stack and property."""
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact_id, artifact in manifest["artifacts"].items():
        if artifact["type"] == "aws:cloudformation:stack":
            properties = artifact["properties"]
            template = json.loads((directory / properties["templateFile"]).read_text())
            # "aws://ACCOUNT/REGION"
            yield properties.get("stackName", artifact_id), artifact["environment"].rsplit("/", 1)[1], template
        elif artifact["type"] == "cdk:cloud-assembly":
            yield from _stack_templates(directory / artifact["properties"]["directoryName"])


def templates(raw: dict, tmp_root: Path) -> Templates:
    """Every stack template of ``raw`` (memoized per config for the session). No cdk-nag, no deploy rules: only the
    templates matter here, and the rest of the suite checks those on the same constructs."""
    key = json.dumps(raw, sort_keys=True)
    if key not in _SYNTHS:
        config = parse_config(raw)
        out = tmp_root / f"matrix-{len(_SYNTHS)}"
        app = cdk.App(context=FEATURE_FLAGS, outdir=str(out))
        if config.pipeline:
            stacks = [s for stage in build_pipeline(app, config, nag=False).stages for s in stage.deployment.stacks]
        else:
            stacks = MrapDeployment(app, f"{config.name}-set", config=config).stacks
        app.synth()
        names = {s.stack_name for s in stacks}
        _SYNTHS[key] = {(name, region): template for name, region, template in _stack_templates(out)
                        if name in names}
    return _SYNTHS[key]


@dataclass
class Diff:
    added_stacks: list[tuple[str, str]] = field(default_factory=list)
    removed_stacks: list[tuple[str, str]] = field(default_factory=list)
    #: (stack, logical id, type, properties that force replacement)
    replaced: list[tuple[str, str, str, list[str]]] = field(default_factory=list)
    #: (stack, logical id, type, DeletionPolicy)
    removed: list[tuple[str, str, str, str]] = field(default_factory=list)
    added: list[tuple[str, str, str]] = field(default_factory=list)
    #: physical names (BucketName, MRAP Name) that new resources would take while deployed ones hold them
    taken_names: list[str] = field(default_factory=list)

    def data_removed_from_app(self, before: Templates, *, deleted_only: bool = False) -> list[tuple[str, str]]:
        """Removed stacks holding data resources (``deleted_only``: ones not retained when the stack is deleted)."""
        return [s for s in self.removed_stacks
                if any(r["Type"] in DATA and not (deleted_only and r.get("DeletionPolicy") == "Retain")
                       for r in before[s].get("Resources", {}).values())]


def _names(template: dict) -> set[str]:
    found = set()
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::S3::Bucket" and isinstance(props.get("BucketName"), str):
            found.add(props["BucketName"])
        if resource["Type"] == "AWS::S3::MultiRegionAccessPoint":
            found.add(f"mrap:{props['Name']}")
    return found


def diff(before: Templates, after: Templates) -> Diff:
    result = Diff(added_stacks=sorted(set(after) - set(before)), removed_stacks=sorted(set(before) - set(after)))
    held = set().union(*(_names(t) for t in before.values()))
    for stack in result.added_stacks:
        result.taken_names += sorted(_names(after[stack]) & held)
    for stack in sorted(set(before) & set(after)):
        old, new = before[stack].get("Resources", {}), after[stack].get("Resources", {})
        for logical in sorted(set(old) - set(new)):
            result.removed.append((stack[0], logical, old[logical]["Type"], old[logical].get("DeletionPolicy",
                                                                                               "Delete")))
        for logical in sorted(set(new) - set(old)):
            result.added.append((stack[0], logical, new[logical]["Type"]))
        for logical in sorted(set(old) & set(new)):
            kind = new[logical]["Type"]
            create_only, _source = UPDATE_REQUIRES_REPLACEMENT.get(kind, (set(), ""))
            props_old, props_new = old[logical].get("Properties", {}), new[logical].get("Properties", {})
            forcing = sorted(p for p in create_only if props_old.get(p) != props_new.get(p))
            if forcing:
                result.replaced.append((stack[0], logical, kind, forcing))
    return result


@pytest.fixture(scope="session")
def matrix_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("day2-matrix")


def _assert_consistent(kind: str, key: str, d: Diff, before: Templates, old: dict, new: dict) -> None:
    """The diff shows what the class says: in place touches no data; guarded replaces only the MRAP, under a new name;
    refused would replace or strand data, or collide with deployed names."""
    data_replaced = [r for r in d.replaced if r[2] in DATA]
    if kind in (IN_PLACE, TWO_DEPLOYS):
        assert not data_replaced, f"{key}: an in-place change replaces {data_replaced}"
        lost = [r for r in d.removed if r[2] in DATA and r[3] != "Retain"]
        assert not lost, f"{key}: an in-place change deletes {lost}"
        assert not d.taken_names, f"{key}: new stacks take deployed names {d.taken_names}"
        # A stack that leaves the app stays deployed (printed below); deleting it must not delete data.
        assert not d.data_removed_from_app(before, deleted_only=True), f"{key}: deleting a stack left behind loses data"
        verdict = check(parse_config(old), parse_config(new))
        retained_gone = [r for r in d.removed if r[3] == "Retain" and r[2] != "AWS::S3::MultiRegionAccessPointPolicy"]
        if retained_gone or d.removed_stacks:
            assert verdict.notes, f"{key}: {retained_gone or d.removed_stacks} left behind without a note"
            text = " ".join(verdict.notes)
            for stack, _region in d.removed_stacks:
                assert stack in text, f"{key}: {stack} left behind without its delete command"
    elif kind == GUARDED:
        assert {r[2] for r in data_replaced} <= {"AWS::S3::MultiRegionAccessPoint",
                                                 "AWS::S3::MultiRegionAccessPointPolicy"}, data_replaced
        mrap = [r for r in data_replaced if r[2] == "AWS::S3::MultiRegionAccessPoint"]
        assert mrap and "Name" in mrap[0][3], f"{key}: guarded means a new MRAP under a new name"
        assert not d.taken_names and not d.data_removed_from_app(before)
    else:
        assert data_replaced or d.taken_names or d.data_removed_from_app(before), (
            f"{key}: refused, but the diff shows no data-bearing replacement, collision or stranded stack")


def _create_only(t: Templates) -> dict:
    (mrap,) = [r["Properties"] for template in t.values() for r in template.get("Resources", {}).values()
               if r["Type"] == "AWS::S3::MultiRegionAccessPoint"][:1] or [{}]
    # The template lists buckets only (a bucket's Region is its own): key them by bucket.
    regions = {json.dumps(r["Bucket"], sort_keys=True): {"Bucket": r["Bucket"]} for r in mrap.get("Regions", [])}
    return {"Name": mrap.get("Name"), "Regions": regions,
            "PublicAccessBlockConfiguration": mrap.get("PublicAccessBlockConfiguration")}


def _assert_guard(kind: str, key: str, old: dict, new: dict, t_old: Templates, t_new: Templates) -> None:
    """The guard decides as the class says (against the deployed config, as the lock records it)."""
    verdict = check(parse_config(old), parse_config(new))
    if kind == REFUSED:
        assert verdict.problems, f"{key}: refused, but the guard lets it through"
        assert any("Safe path:" in p for p in verdict.problems)
        return
    assert not verdict.problems, verdict.problems
    assert verdict.props["kms_default_encryption"] is (kind != TWO_DEPLOYS), key
    entry = LockEntry("111111111111/media", _create_only(t_old), old)
    if kind == GUARDED:
        with pytest.raises(ReplacementError, match="new alias and ARN"):
            enforce_lock(Path("x"), _create_only(t_new), allow_replacement=False, entry=entry, read=False)
        assert enforce_lock(Path("x"), _create_only(t_new), allow_replacement=True, entry=entry,
                            read=False).action == "replaced"
    else:
        assert enforce_lock(Path("x"), _create_only(t_new), allow_replacement=False, entry=entry,
                            read=False).action == "unchanged"


def test_every_config_key_is_in_the_matrix():
    keys = config_keys()
    assert sorted(KEY_CHANGES) == sorted(keys), "a config key without a day-2 classification (stacks/day2.py)"
    assert sorted(CASES) == sorted(keys), "a config key without a matrix case here"
    severity = [IN_PLACE, TWO_DEPLOYS, GUARDED, REFUSED]
    for key, case in CASES.items():
        # The table shows the stricter direction (encryption: in place to sse-s3, two deploys to sse-kms).
        assert KEY_CHANGES[key].kind == max(case.forward, case.back, key=severity.index), key
        if KEY_CHANGES[key].kind in (REFUSED, GUARDED):
            assert KEY_CHANGES[key].safe_path, f"{key}: a refusal names the safe path"


def test_docs_show_the_matrix():
    """docs/operations.md has the table: one row per key with its class (`| key | class | ... |`)."""
    text = (ROOT / "docs" / "operations.md").read_text()
    rows = dict(re.findall(r"^\| `([\w.]+)` \| ([a-z /]+) \|", text, re.M))
    assert {k: v.strip() for k, v in rows.items() if k in KEY_CHANGES} == {k: c.kind for k, c in KEY_CHANGES.items()}


@pytest.mark.parametrize("key", sorted(CASES))
def test_change_and_back(key, matrix_root):
    base, new = BASE, changed(key)
    t_base, t_new = templates(base, matrix_root), templates(new, matrix_root)
    case = CASES[key]
    _assert_consistent(case.forward, key, diff(t_base, t_new), t_base, base, new)
    _assert_guard(case.forward, key, base, new, t_base, t_new)
    _assert_consistent(case.back, f"{key} (back)", diff(t_new, t_base), t_new, new, base)
    _assert_guard(case.back, f"{key} (back)", new, base, t_new, t_base)
