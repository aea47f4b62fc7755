"""The deployable app: stacks, waves, dependencies, outputs, replication wiring per mode, cdk-nag."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.conftest import ACCOUNT, DEFAULT_CONFIG, regions

SCENARIOS = {
    "mesh-2": {"name": "mesh-two", "regions": regions(2), "account": ACCOUNT},
    "mesh-17": {"name": "mesh-all", "regions": regions(17), "account": ACCOUNT},
    "oneway-3": {"name": "oneway", "regions": regions(3), "account": ACCOUNT,
                 "replication": {"mode": "one-way", "source_region": "eu-west-1", "rtc": True}},
    "oneway-17": {"name": "oneway-all", "regions": regions(17), "account": ACCOUNT,
                  "replication": {"mode": "one-way"}},
    "none-2": {"name": "no-repl", "regions": regions(2), "account": ACCOUNT, "replication": {"mode": "none"},
               "monitoring": {"dashboard": False, "alarms": False, "access_logs": False}},
    # No account (synth without credentials) and an explicit destroy policy.
    "agnostic-2": {"name": "agnostic", "regions": regions(2), "removal_policy": "destroy"},
    "kms-2": {"name": "kms", "regions": regions(2), "account": ACCOUNT, "encryption": "sse-kms"},
}


def _rules(app, region: str) -> list[dict]:
    """The replication rules the region's custom resource applies (parsed from the SDK call)."""
    template = app.template_json(f"{app.deployment.config.name}-replication-{region}")
    resource = next(r for r in template["Resources"].values() if r["Type"] == "Custom::S3BucketReplication")
    create = resource["Properties"]["Create"]
    text = create if isinstance(create, str) else "".join(
        p if isinstance(p, str) else "<TOKEN>" for p in create["Fn::Join"][1])
    text = text.replace('"<TOKEN>"', '"TOKEN"').replace("<TOKEN>", "TOKEN")
    call = json.loads(text)
    if call["action"] == "DeleteBucketReplication":
        return []
    return call["parameters"]["ReplicationConfiguration"]["Rules"]


def test_default_app_has_bucket_replication_and_access_point_stacks(default_app):
    names = default_app.stack_names
    assert names == [
        "mrap-demo-bucket-us-east-1", "mrap-demo-bucket-eu-west-1", "mrap-demo-bucket-ap-southeast-2",
        "mrap-demo-replication-us-east-1", "mrap-demo-replication-eu-west-1",
        "mrap-demo-replication-ap-southeast-2", "mrap-demo-access-point",
    ]
    assert default_app.region_of("mrap-demo-access-point") == DEFAULT_CONFIG["home_region"]
    for stack in default_app.deployment.stacks:
        assert stack.account == ACCOUNT and not stack.region.startswith("${Token")


def test_dependency_graph_is_acyclic_with_two_waves(default_app):
    stacks = default_app.deployment.stacks
    bucket_stacks = set(default_app.deployment.bucket_stacks.values())
    for stack in stacks:
        deps = set(stack.dependencies)
        if stack in bucket_stacks:
            assert deps == set(), f"{stack.stack_name} must not depend on anything"
        else:
            assert deps == bucket_stacks, f"{stack.stack_name} must depend on exactly the bucket stacks"
    assert [len(w) for w in default_app.deployment.waves] == [3, 4]


def test_manifest_records_the_dependencies_for_the_cli(default_app):
    manifest = json.loads((default_app.out_dir / "manifest.json").read_text())
    stacks = {a["properties"]["stackName"]: (artifact_id, a) for artifact_id, a in manifest["artifacts"].items()
              if a["type"] == "aws:cloudformation:stack"}  # artifact ids hash the path under the set
    deps = stacks["mrap-demo-access-point"][1]["dependencies"]
    assert {stacks[f"mrap-demo-bucket-{r}"][0] for r in ("us-east-1", "eu-west-1", "ap-southeast-2")} <= set(deps)


def test_outputs(default_app):
    outputs = default_app.template_json("mrap-demo-access-point")["Outputs"]
    assert {"MrapName", "MrapAlias", "MrapArn", "MrapHostname"} <= set(outputs)
    assert outputs["MrapAlias"]["Value"] == {"Fn::GetAtt": [default_app.deployment.access_point_stack.resolve(
        default_app.deployment.access_point_stack.access_point.resource.logical_id), "Alias"]}
    bucket_outputs = default_app.template_json("mrap-demo-bucket-eu-west-1")["Outputs"]
    assert bucket_outputs["BucketRegion"]["Value"] == "eu-west-1"


def test_mrap_lists_every_deterministic_bucket(default_app):
    default_app.template("mrap-demo-access-point").has_resource_properties("AWS::S3::MultiRegionAccessPoint", {
        "Name": "mrap-demo",
        "Regions": [{"Bucket": f"mrap-demo-{ACCOUNT}-{r}"} for r in sorted(DEFAULT_CONFIG["regions"])],
    })
    default_app.template("mrap-demo-bucket-eu-west-1").has_resource_properties(
        "AWS::S3::Bucket", {"BucketName": f"mrap-demo-{ACCOUNT}-eu-west-1"})


def test_default_full_mesh_rules_point_at_every_other_bucket(default_app):
    for region in DEFAULT_CONFIG["regions"]:
        rules = _rules(default_app, region)
        others = sorted(set(DEFAULT_CONFIG["regions"]) - {region})
        assert [r["Destination"]["Bucket"] for r in rules] == [f"arn:aws:s3:::mrap-demo-{ACCOUNT}-{o}" for o in others]
        assert [r["Priority"] for r in rules] == [1, 2]


@pytest.mark.parametrize(("scenario", "n"), [("mesh-2", 2), ("mesh-17", 17)])
def test_full_mesh_has_n_minus_1_rules_per_bucket(synth, scenario, n):
    app = synth(SCENARIOS[scenario])
    counts = [len(_rules(app, r)) for r in regions(n)]
    assert counts == [n - 1] * n and sum(counts) == n * (n - 1)
    assert [len(w) for w in app.deployment.waves] == [n, n + 1]


@pytest.mark.parametrize(("scenario", "source", "n"), [("oneway-3", "eu-west-1", 3), ("oneway-17", "us-east-1", 17)])
def test_one_way_replicates_from_the_source_only(synth, scenario, source, n):
    app = synth(SCENARIOS[scenario])
    for region in regions(n):
        rules = _rules(app, region)
        assert len(rules) == (n - 1 if region == source else 0), region


def test_one_way_rtc_is_on_every_rule(synth):
    rules = _rules(synth(SCENARIOS["oneway-3"]), "eu-west-1")
    assert all(r["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}} for r in rules)


def test_mode_none_removes_configuration_everywhere(synth):
    app = synth(SCENARIOS["none-2"])
    assert [_rules(app, r) for r in regions(2)] == [[], []]


def test_one_region_gets_no_replication_stack_and_leaves_an_existing_buckets_configuration_alone(synth):
    app = synth({"name": "solo", "regions": ["eu-west-1"], "account": ACCOUNT,
                 "existing_buckets": {"eu-west-1": "legacy-media"}})
    assert app.stack_names == ["solo-access-point"] and app.deployment.replication_stacks == {}
    # The replication stack's warning about what an existing bucket must have moves to the MRAP's stack, without the
    # sentence about replacing its replication configuration (nothing touches it).
    warnings = Annotations.from_stack(app.deployment.access_point_stack).find_warning(
        "*", Match.string_like_regexp("legacy-media is an existing bucket"))
    assert [w.entry.data for w in warnings] == [
        "legacy-media is an existing bucket: versioning must be enabled, public access blocked, and its policy must "
        "delegate to access points of the MRAP account (s3:DataAccessPointAccount). "
        "[ack: mrap:ExistingBucketUnverified]"]


def test_kms_app_wires_keys_aliases_and_replica_keys(synth):
    app = synth(SCENARIOS["kms-2"])
    app.template("kms-bucket-us-east-1").has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/kms-mrap"})
    rule = _rules(app, "us-east-1")[0]
    assert rule["Destination"]["EncryptionConfiguration"] == {
        "ReplicaKmsKeyID": f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/kms-mrap"}
    assert rule["SourceSelectionCriteria"]["SseKmsEncryptedObjects"] == {"Status": "Enabled"}


def test_cdk_nag_reports_no_violation(default_app, synth):
    for app in [default_app, synth(SCENARIOS["kms-2"]), synth(SCENARIOS["oneway-3"])]:
        report = json.loads((app.out_dir / "validation-report.json").read_text())
        assert all(not p.get("violations") for p in report.get("pluginReports", [])), report


def test_data_bearing_resources_are_retained(default_app, synth):
    for app in [default_app, synth(SCENARIOS["kms-2"])]:
        for name in app.stack_names:
            for logical_id, resource in app.template_json(name)["Resources"].items():
                if resource["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::S3::MultiRegionAccessPoint"):
                    assert resource.get("DeletionPolicy") == "Retain", (name, logical_id)
                    assert resource.get("UpdateReplacePolicy") == "Retain", (name, logical_id)


def test_removal_policy_destroy_is_explicit(synth):
    app = synth(SCENARIOS["agnostic-2"])
    template = app.template_json("agnostic-bucket-us-east-1")
    buckets = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    assert buckets and all(b["DeletionPolicy"] == "Delete" for b in buckets)
    assert any(r["Type"] == "Custom::S3AutoDeleteObjects" for r in template["Resources"].values())


def test_account_agnostic_names_use_the_account_pseudo_parameter(synth):
    app = synth(SCENARIOS["agnostic-2"])
    name = app.template("agnostic-bucket-us-east-1").find_resources("AWS::S3::Bucket", {
        "Properties": {"BucketName": {"Fn::Join": ["", ["agnostic-", {"Ref": "AWS::AccountId"}, "-us-east-1"]]}}})
    assert len(name) == 1
