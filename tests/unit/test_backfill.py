"""BatchReplicationBackfill: the CreateJob call, its idempotence, the role, the report bucket, validation, cdk-nag."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from mrap_constructs import BatchReplicationBackfill
from mrap_constructs.backfill import BATCH_OPERATIONS_PRINCIPAL, backfill_token, job_description
from tests.conftest import ACCOUNT, new_stack

SOURCE = f"media-{ACCOUNT}-us-east-1"


def _build(**props):
    stack = new_stack("us-east-1")
    source = s3.Bucket.from_bucket_name(stack, "Source", SOURCE)
    backfill = BatchReplicationBackfill(stack, "Backfill", source_bucket=source, mrap_name="media", **props)
    return stack, backfill, Template.from_stack(stack)


@pytest.fixture(scope="module")
def built():
    return _build()


def _create_call(template: Template) -> dict:
    (resource,) = template.find_resources("Custom::MrapBackfillJob").values()
    props = resource["Properties"]
    assert "Update" not in props and "Delete" not in props, "only a create call: updates and deletes do nothing"
    create = props["Create"]
    # The call is a JSON string with tokens joined in: render the tokens as placeholders to parse it.
    if isinstance(create, dict):
        create = "".join(p if isinstance(p, str) else "TOKEN" for p in create["Fn::Join"][1])
    return json.loads(create)


def test_job_is_s3_replicate_object_over_a_generated_manifest_of_unreplicated_versions(built):
    _, backfill, template = built
    call = _create_call(template)
    assert call["service"] == "S3Control" and call["action"] == "createJob" and call["region"] == "us-east-1"
    job = call["parameters"]
    assert job["Operation"] == {"S3ReplicateObject": {}}
    assert job["ConfirmationRequired"] is False
    generator = job["ManifestGenerator"]["S3JobManifestGenerator"]
    assert generator["SourceBucket"] == f"arn:TOKEN:s3:::{SOURCE}" or generator["SourceBucket"].endswith(SOURCE)
    assert generator["Filter"] == {"EligibleForReplication": True, "ObjectReplicationStatuses": ["NONE", "FAILED"]}
    assert generator["EnableManifestOutput"] is True
    assert generator["ManifestOutputLocation"]["ManifestFormat"] == "S3InventoryReport_CSV_20211130"
    report = job["Report"]
    assert report["Enabled"] is True and report["Format"] == "Report_CSV_20180820"
    assert report["ReportScope"] == "FailedTasksOnly" and report["Prefix"] == "backfill/initial"
    assert job["Description"] == job_description("media", "us-east-1", "initial")


def test_token_and_physical_id_are_deterministic(built):
    _, backfill, template = built
    call = _create_call(template)
    token = backfill_token(SOURCE, "initial")
    assert call["parameters"]["ClientRequestToken"] == token == backfill.token
    assert call["physicalResourceId"] == {"id": token}
    assert len(token) <= 64
    assert backfill_token(SOURCE, "initial") == token
    assert backfill_token(SOURCE, "second") != token


def test_a_new_backfill_key_is_a_new_resource_and_the_same_key_the_same_one():
    _, _, first = _build()
    _, _, again = _build()
    _, _, second = _build(backfill_key="second")
    ids = [list(t.find_resources("Custom::MrapBackfillJob")) for t in (first, again, second)]
    assert ids[0] == ids[1], "same key: same logical id, so a redeploy sends no Create"
    assert ids[0] != ids[2], "a new key: a new resource, so CloudFormation creates it (a new job)"


def test_role_is_trusted_by_batch_operations_as_aws_documents_it(built):
    """AWS's Batch Operations trust policy has no Condition, and no AWS source says the service sends
    aws:SourceAccount when it assumes the role ("Granting permissions for Batch Operations",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html)."""
    _, _, template = built
    template.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": BATCH_OPERATIONS_PRINCIPAL}}]}})
    [role] = template.find_resources("AWS::IAM::Role", {"Properties": {"AssumeRolePolicyDocument": {"Statement": [
        {"Principal": {"Service": BATCH_OPERATIONS_PRINCIPAL}}]}}}).values()
    assert "Condition" not in role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]


def test_role_has_exactly_the_batch_replication_actions(built):
    stack, backfill, template = built
    policy = stack.resolve(backfill.node.find_child("Policy").node.default_child.policy_document)
    actions = {st["Sid"]: st["Action"] for st in policy["Statement"]}
    assert actions == {"ReplicateSourceObjects": "s3:InitiateReplication",
                       "GenerateManifest": ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"],
                       "ReadManifest": ["s3:GetObject", "s3:GetObjectVersion"],
                       "WriteManifestAndReport": "s3:PutObject"}
    report = next(st for st in policy["Statement"] if st["Sid"] == "WriteManifestAndReport")
    assert report["Resource"]["Fn::Join"][1][-1] == "/backfill/initial/*", "only the backfill's prefix"


def test_custom_resource_may_create_only_replication_jobs_and_pass_only_its_role(built):
    stack, backfill, template = built
    policy = stack.resolve(stack.node.find_child("SdkCallProvider").node.find_child("Policy")
                           .node.default_child.policy_document)
    create = next(st for st in policy["Statement"] if st["Action"] == "s3:CreateJob")
    assert create["Resource"] == "*"
    assert create["Condition"] == {"StringEquals": {"s3:RequestJobOperation": "S3ReplicateObject"}}
    passrole = next(st for st in policy["Statement"] if st["Action"] == "iam:PassRole")
    assert passrole["Resource"] == stack.resolve(backfill.role.role_arn)
    assert passrole["Condition"] == {"StringEquals": {"iam:PassedToService": BATCH_OPERATIONS_PRINCIPAL}}


def test_report_bucket_is_private_tls_only_versioned_and_retained(built):
    _, _, template = built
    template.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True}}),
        "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_job_waits_for_its_permissions_and_report_bucket(built):
    _, _, template = built
    (resource,) = template.find_resources("Custom::MrapBackfillJob").values()
    depends = resource["DependsOn"]
    assert any(d.startswith("BackfillPolicy") for d in depends)
    assert any(d.startswith("BackfillReports") for d in depends)


def test_job_id_is_read_from_the_response(built):
    stack, backfill, _ = built
    get_att = stack.resolve(backfill.job_id)["Fn::GetAtt"]
    assert get_att[0].startswith("BackfillJobinitial") and get_att[1] == "JobId"


@pytest.mark.parametrize("pack", [AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks])
def test_nag_clean(built, pack):
    stack, _, _ = built
    result = pack().validate_scope(stack)
    assert [v.rule_name for v in result.violations] == []


def test_existing_report_bucket_is_used():
    stack = new_stack("us-east-1")
    source = s3.Bucket.from_bucket_name(stack, "Source", SOURCE)
    reports = s3.Bucket.from_bucket_name(stack, "Reports", "audit-reports")
    BatchReplicationBackfill(stack, "Backfill", source_bucket=source, mrap_name="media", report_bucket=reports)
    Template.from_stack(stack).resource_count_is("AWS::S3::Bucket", 0)


def test_fails_on_bad_inputs_listing_each():
    stack = new_stack("us-east-1")
    source = s3.Bucket.from_bucket_name(stack, "Source", SOURCE)
    with pytest.raises(ValueError, match=r"(?s)backfill_key='no spaces'.*report_scope='Some'.*priority=-1"):
        BatchReplicationBackfill(stack, "Backfill", source_bucket=source, mrap_name="media",
                                 backfill_key="no spaces", report_scope="Some", priority=-1)


# --- app wiring: config key, waves, passive empty Regions ---------------------------------------------------------

ADOPT = {"name": "adopt", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
         "existing_buckets": {"us-east-1": "legacy-media"}}


@pytest.fixture(scope="module")
def adopted(synth):
    return synth(ADOPT)


def test_existing_bucket_gets_a_backfill_stack_after_its_replication_and_the_mrap(adopted):
    deployment = adopted.deployment
    assert list(deployment.backfill_stacks) == ["us-east-1"]
    stack = deployment.backfill_stacks["us-east-1"]
    assert stack.stack_name == "adopt-backfill-us-east-1" and adopted.region_of(stack.stack_name) == "us-east-1"
    assert {d.stack_name for d in stack.dependencies} == {"adopt-replication-us-east-1", "adopt-access-point"}
    assert stack in deployment.waves[2], "wave 3, after replication (wave 2)"
    call = _create_call(adopted.template(stack.stack_name))
    assert call["parameters"]["ManifestGenerator"]["S3JobManifestGenerator"]["SourceBucket"].endswith(
        ":s3:::legacy-media")


def test_empty_regions_start_passive_and_the_goal_is_all_active(adopted):
    template = adopted.template("adopt-access-point")
    template.has_resource_properties("Custom::MrapRoutes", {
        "Dials": {"ap-southeast-2": "100", "eu-west-1": "100", "us-east-1": "100"},
        "InitialPassive": ["ap-southeast-2", "eu-west-1"], "RequireInSync": "true"})
    routes = adopted.deployment.access_point_stack.routes
    assert routes.initial == {"ap-southeast-2": 0, "eu-west-1": 0, "us-east-1": 100}


def test_backfill_off_keeps_every_region_active_and_starts_no_job(synth):
    app = synth({**ADOPT, "backfill": False})
    assert app.deployment.backfill_stacks == {}
    assert app.deployment.access_point_stack.routes is None


def test_no_existing_bucket_no_backfill(default_app):
    assert default_app.deployment.backfill_stacks == {}
    assert all("backfill" not in name for name in default_app.stack_names)


def test_config_opt_out_of_the_in_sync_check(synth):
    app = synth({**ADOPT, "failover": {"active": ["us-east-1"], "require_in_sync": False}})
    app.template("adopt-access-point").has_resource_properties("Custom::MrapRoutes", {
        "Dials": {"ap-southeast-2": "0", "eu-west-1": "0", "us-east-1": "100"}, "RequireInSync": "false"})


def test_fails_backfill_true_without_a_bucket_holding_data():
    from stacks.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"mrap.backfill=True: needs a bucket holding data"):
        parse_config({"name": "media", "regions": ["us-east-1", "eu-west-1"], "backfill": True})


def test_fails_backfill_true_when_the_data_replicates_nowhere():
    from stacks.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"backfill=True: the buckets holding data \(eu-west-1\) replicate nowhere"):
        parse_config({"name": "media", "regions": ["us-east-1", "eu-west-1"], "backfill": True,
                      "existing_buckets": {"eu-west-1": "legacy"},
                      "replication": {"mode": "one-way", "source_region": "us-east-1"}})


def test_fails_mrap_set_backfill_true_without_data():
    import aws_cdk as cdk

    from mrap_constructs import MrapSet

    with pytest.raises(ValueError, match=r"backfill.enabled=True: needs a bucket holding data"):
        MrapSet(cdk.App(), "Set", name="media", regions=["us-east-1", "eu-west-1"], backfill=True)


def test_initial_dials_keep_a_region_active():
    from mrap_constructs.regions import initial_dials

    assert initial_dials({"a": 100, "b": 100}, ["b"]) == {"a": 100, "b": 0}
    # The goal names only an empty Region active: the Regions holding data serve until it is filled.
    assert initial_dials({"a": 0, "b": 100}, ["b"]) == {"a": 100, "b": 0}


def test_the_cli_finds_jobs_by_the_description_the_construct_writes():
    from mrap_constructs.backfill import DESCRIPTION_PREFIX
    from mrap_constructs.ops.client import BACKFILL_DESCRIPTION_PREFIX

    assert DESCRIPTION_PREFIX == BACKFILL_DESCRIPTION_PREFIX
    assert job_description("media", "us-east-1", "initial").split() == [DESCRIPTION_PREFIX, "media", "us-east-1",
                                                                         "initial"]
