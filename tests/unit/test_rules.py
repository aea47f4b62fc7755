"""AWS's deploy rules as synth-time checks (``mrap_constructs.rules``): each rule catches what AWS would reject or
silently break, says where and cites its source; the app's own configs pass; the plugin fails synth.

One app holds a violating stack per rule and one holds the fixed constructs: each is synthesized once.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from mrap_constructs import BucketReplication, MrapBucket, ReplicationDestination
from mrap_constructs.monitoring import ReplicationAlarms
from mrap_constructs.monitoring.trail import DataEventsTrail
from mrap_constructs.rules import RULES, AwsDeployRules, check_assembly
from tests.conftest import ACCOUNT, FEATURE_FLAGS

OTHER = "222222222222"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/media-replication-us-east-1"


def _env(region: str, account: str = ACCOUNT) -> cdk.Environment:
    return cdk.Environment(account=account, region=region)


def _templates(app: cdk.App) -> list[str]:
    assembly = app.synth()
    return [str(Path(assembly.directory) / s.template_file) for s in assembly.stacks]


def _bad_app(out: Path, asset_dir: Path) -> cdk.App:
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(out))
    # PrincipalCreatedLater: wave 1 names a role that wave 2 creates (the pre-fix cross-account bucket policy).
    policy_stack = cdk.Stack(app, "policy-wave1", env=_env("eu-west-1", OTHER))
    bucket = s3.CfnBucket(policy_stack, "Bucket", bucket_name="media-222222222222-eu-west-1")
    s3.CfnBucketPolicy(policy_stack, "Policy", bucket=bucket.ref, policy_document={"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:ReplicateObject",
        "Resource": "arn:aws:s3:::media-222222222222-eu-west-1/*"}]})
    role_stack = cdk.Stack(app, "role-wave2", env=_env("us-east-1"))
    iam.Role(role_stack, "Role", role_name="media-replication-us-east-1",
             assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
    role_stack.add_dependency(policy_stack)
    # ReplicationBeforeDestination: rules applied from a stack that does not depend on the destination's stack.
    destination = cdk.Stack(app, "destination", env=_env("ap-southeast-2"))
    MrapBucket(destination, "Bucket", bucket_name="media-111111111111-ap-southeast-2")
    early = cdk.Stack(app, "replication-too-early", env=_env("us-east-1"))
    BucketReplication(early, "Replication", source_bucket="media-111111111111-us-east-1", destinations=[
        ReplicationDestination(region="ap-southeast-2", bucket_name="media-111111111111-ap-southeast-2")])
    # TagFilterWithDeleteMarkers, on a bucket's own ReplicationConfiguration.
    tagged = cdk.Stack(app, "tagged", env=_env("us-east-1"))
    s3.CfnBucket(tagged, "Bucket", versioning_configuration={"status": "Enabled"}, replication_configuration={
        "role": ROLE, "rules": [{"id": "by-tag", "status": "Enabled", "priority": 1,
                                 "filter": {"tagFilter": {"key": "replicate", "value": "yes"}},
                                 "deleteMarkerReplication": {"status": "Enabled"},
                                 "destination": {"bucket": "arn:aws:s3:::elsewhere"}}]})
    # ReplicationSchema: RTC without metrics, SSE-KMS objects without a replica key, a duplicate rule id.
    schema = cdk.Stack(app, "schema", env=_env("us-east-1"))
    s3.CfnBucket(schema, "Bucket", versioning_configuration={"status": "Enabled"}, replication_configuration={
        "role": ROLE, "rules": [
            {"id": "rtc", "status": "Enabled", "priority": 1, "filter": {"prefix": ""},
             "deleteMarkerReplication": {"status": "Disabled"},
             "destination": {"bucket": "arn:aws:s3:::elsewhere", "replicationTime": {
                 "status": "Enabled", "time": {"minutes": 15}}}},
            {"id": "rtc", "status": "Enabled", "priority": 2, "filter": {"prefix": "b/"},
             "deleteMarkerReplication": {"status": "Disabled"},
             "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
             "destination": {"bucket": "arn:aws:s3:::elsewhere-too"}}]})
    # AlarmTopicKeyDeniesCloudWatch: the AWS managed key, and a CMK with the default policy.
    alarms = cdk.Stack(app, "alarms", env=_env("us-east-1"))
    managed = sns.Topic(alarms, "Managed", master_key=kms.Alias.from_alias_name(alarms, "SnsKey", "alias/aws/sns"))
    default_key = sns.Topic(alarms, "DefaultKey", master_key=kms.Key(alarms, "Key", enable_key_rotation=True))
    for name, topic in (("A", managed), ("B", default_key)):
        cw.CfnAlarm(alarms, name, namespace="AWS/S3", metric_name="OperationsFailedReplication", statistic="Sum",
                    period=300, evaluation_periods=1, threshold=0, comparison_operator="GreaterThanThreshold",
                    alarm_actions=[topic.topic_arn])
    # ... and per-source metric-math alarms (``Metrics``, no ``MetricName``) to their own managed-key topic.
    math_topic = sns.Topic(alarms, "MathManaged",
                           master_key=kms.Alias.from_alias_name(alarms, "MathSnsKey", "alias/aws/sns"))
    ReplicationAlarms(alarms, "PerSource", source_bucket_name="src", topic=math_topic,
                      destinations=[ReplicationDestination(region="eu-west-1", bucket_name="dst")])
    # TrailKeyDeniesCloudTrail: aws-cdk-lib's Trail with a key of the default policy.
    trail = cdk.Stack(app, "trail", env=_env("us-west-2"))
    cloudtrail.Trail(trail, "Trail", encryption_key=kms.Key(trail, "Key", enable_key_rotation=True))
    # MrapPolicyDeniesEverything.
    mrap = cdk.Stack(app, "mrap-policy", env=_env("us-west-2"))
    s3.CfnMultiRegionAccessPointPolicy(mrap, "Policy", mrap_name="media", policy={"Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]})
    # ReplicaKeyDeniesSourceRole + AdoptedBucketKeyNotGranted: SSE-KMS replication from a bucket no stack creates,
    # decrypting only with the set's alias (absent in that Region), into another account's key of the default policy.
    dest_key = cdk.Stack(app, "dest-key", env=_env("eu-west-1", OTHER))
    kms.Key(dest_key, "Key", alias="alias/media-mrap", enable_key_rotation=True)
    kms_replication = cdk.Stack(app, "kms-replication", env=_env("us-east-1"))
    BucketReplication(kms_replication, "Replication", source_bucket="legacy-us-east-1",
                      source_kms_key_arn=f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/media-mrap",
                      role_name="legacy-replication-us-east-1", destinations=[ReplicationDestination(
                          region="eu-west-1", bucket_name="kms-222222222222-eu-west-1", account=OTHER,
                          replica_kms_key_arn=f"arn:aws:kms:eu-west-1:{OTHER}:alias/media-mrap")])
    kms_replication.add_stack_dependency(dest_key)
    # InSyncCheckCannotReadAccount: the in-sync check over a bucket of another account, with no reader role there.
    blind = cdk.Stack(app, "routes-blind", env=_env("us-west-2"))
    s3.CfnMultiRegionAccessPoint(blind, "Mrap", name="media", regions=[
        s3.CfnMultiRegionAccessPoint.RegionProperty(bucket="media-111111111111-us-east-1"),
        s3.CfnMultiRegionAccessPoint.RegionProperty(bucket="media-222222222222-eu-west-1", bucket_account_id=OTHER)])
    cdk.CfnResource(blind, "Routes", type="Custom::MrapRoutes", properties={
        "ServiceToken": f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:routes", "RequireInSync": "true"})
    # AssetWithDotfiles: the exclude-list pattern the routes handler used to have.
    assets = cdk.Stack(app, "assets", env=_env("us-east-1"))
    lambda_.Function(assets, "Fn", runtime=lambda_.Runtime.PYTHON_3_14, handler="h.handler",
                     code=lambda_.Code.from_asset(str(asset_dir), exclude=["*", "!h.py"]))
    return app


@pytest.fixture(scope="module")
def bad_findings(tmp_path_factory):
    asset_dir = tmp_path_factory.mktemp("code")
    (asset_dir / "h.py").write_text("def handler(event, context):\n    return {}\n")
    (asset_dir / ".env").write_text("SECRET=1\n")
    findings = check_assembly(_templates(_bad_app(tmp_path_factory.mktemp("bad"), asset_dir)))
    return {rule.NAME: [f for f in findings if f.rule == rule.NAME] for rule in RULES}


def test_principal_created_in_a_later_wave(bad_findings):
    [finding] = bad_findings["PrincipalCreatedLater"]
    assert (finding.stack, finding.logical_id) == ("policy-wave1", "Policy")
    assert finding.location == "Properties.PolicyDocument.Statement[0].Principal"
    assert f"names {ROLE}, which role-wave2 creates in wave 2; this policy is saved in wave 1" in finding.message


def test_replication_applied_before_its_destination_exists(bad_findings):
    [finding] = bad_findings["ReplicationBeforeDestination"]
    assert finding.stack == "replication-too-early" and finding.location == "Properties.Rules"
    assert "rule to-ap-southeast-2 replicates to media-111111111111-ap-southeast-2, which destination creates" in \
        finding.message


def test_tag_filter_with_delete_markers(bad_findings):
    [finding] = bad_findings["TagFilterWithDeleteMarkers"]
    assert finding.stack == "tagged" and "rule by-tag filters on tags and replicates delete markers" in finding.message


def test_replication_schema(bad_findings):
    messages = sorted(f.message for f in bad_findings["ReplicationSchema"])
    assert messages == [
        "rule ids ['rtc'] are not unique",
        "rule rtc: ReplicationTime without Metrics; PutBucketReplication rejects it",
        "rule rtc: SseKmsEncryptedObjects without Destination.EncryptionConfiguration.ReplicaKmsKeyID; "
        "PutBucketReplication rejects it"]


def test_alarm_topics_under_keys_cloudwatch_cannot_use(bad_findings):
    findings = bad_findings["AlarmTopicKeyDeniesCloudWatch"]
    assert len(findings) == 3
    # the metric-math alarms' topic too: they name it by Ref in AlarmActions like single-metric alarms
    assert any(f.logical_id.startswith("MathManaged") for f in findings)
    messages = " ".join(f.message for f in findings)
    assert "under the AWS managed key alias/aws/sns" in messages
    assert "does not allow cloudwatch.amazonaws.com kms:GenerateDataKey, kms:Decrypt" in messages


def test_trail_key_without_cloudtrail(bad_findings):
    [finding] = bad_findings["TrailKeyDeniesCloudTrail"]
    assert "does not allow cloudtrail.amazonaws.com kms:GenerateDataKey, kms:DescribeKey" in finding.message
    assert "InsufficientEncryptionPolicyException" in finding.message


def test_mrap_policy_denying_everything(bad_findings):
    [finding] = bad_findings["MrapPolicyDeniesEverything"]
    assert finding.location == "Properties.Policy.Statement[0]" and "['s3:*']" in finding.message


def test_asset_with_dotfiles(bad_findings):
    [finding] = bad_findings["AssetWithDotfiles"]
    assert finding.stack == "assets" and "contains dotfiles: .env" in finding.message


def test_replica_key_of_another_account_not_admitting_the_source_role(bad_findings):
    [finding] = bad_findings["ReplicaKeyDeniesSourceRole"]
    assert finding.stack == "kms-replication" and finding.location == "Properties.Rules"
    assert f"arn:aws:kms:eu-west-1:{OTHER}:alias/media-mrap (account {OTHER})" in finding.message
    assert f"grants account {ACCOUNT}'s replication role no kms:Encrypt" in finding.message


def test_adopted_sse_kms_bucket_whose_key_is_never_granted(bad_findings):
    [finding] = bad_findings["AdoptedBucketKeyNotGranted"]
    assert finding.stack == "kms-replication"
    assert "legacy-us-east-1 is not created by this app" in finding.message
    assert "['alias/media-mrap'], which no stack creates in us-east-1" in finding.message


def test_in_sync_check_over_an_account_it_cannot_read(bad_findings):
    [finding] = bad_findings["InSyncCheckCannotReadAccount"]
    assert (finding.stack, finding.logical_id) == ("routes-blind", "Routes")
    assert f"reads the buckets of account {OTHER} with no role there" in finding.message


def test_every_rule_cites_aws_and_says_the_fix():
    for rule in RULES:
        assert rule.SOURCE.startswith("https://docs.aws.amazon.com/"), rule.NAME
        assert rule.FIX and rule.__doc__ and rule.NAME, rule.NAME


@pytest.fixture(scope="module")
def fixed_findings(tmp_path_factory):
    """The constructs as fixed: the same situations, nothing found."""
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path_factory.mktemp("good")))
    destination = cdk.Stack(app, "bucket", env=_env("eu-west-1", OTHER))
    MrapBucket(destination, "Bucket", bucket_name="media-222222222222-eu-west-1", access_point_account=ACCOUNT,
               replication_source_roles=[ROLE])
    replication = cdk.Stack(app, "replication", env=_env("us-east-1"))
    BucketReplication(replication, "Replication", source_bucket="media-111111111111-us-east-1",
                      role_name="media-replication-us-east-1", destinations=[ReplicationDestination(
                          region="eu-west-1", bucket_name="media-222222222222-eu-west-1", account=OTHER)])
    ReplicationAlarms(replication, "Alarms", source_bucket_name="media-111111111111-us-east-1",
                      destinations=[ReplicationDestination(region="eu-west-1", bucket_name="x")])
    replication.add_dependency(destination)
    home = cdk.Stack(app, "home", env=_env("us-west-2"))
    DataEventsTrail(home, "Trail", bucket_names={"us-east-1": "media-111111111111-us-east-1"})
    return check_assembly(_templates(app))


def test_fixed_constructs_pass_every_rule(fixed_findings):
    assert fixed_findings == []


def test_the_plugin_fails_synth_naming_the_rule_resource_and_source(tmp_path):
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path))
    stack = cdk.Stack(app, "trail", env=_env("us-west-2"))
    cloudtrail.Trail(stack, "Trail", encryption_key=kms.Key(stack, "Key", enable_key_rotation=True))
    cdk.Validations.of(app).add_plugins(AwsDeployRules())
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.dumps(json.loads((tmp_path / "validation-report.json").read_text()))
    assert "mrap-AwsDeployRules" in report and "TrailKeyDeniesCloudTrail" in report
    assert "create-kms-key-policy-for-cloudtrail" in report and "InsufficientEncryptionPolicyException" in report


def test_the_app_registers_the_rules_on_every_synth(tmp_path):
    """``build_app`` checks every synth: one bad statement added to the app's own MRAP policy fails it (so every
    config the suite synthesizes passed the rules)."""
    from stacks.app_builder import build_app
    from stacks.config import parse_config

    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path))
    deployment = build_app(app, parse_config({"name": "ruled", "regions": ["us-east-1"], "account": ACCOUNT}),
                           nag=False)
    deployment.access_point.add_to_resource_policy(iam.PolicyStatement(
        effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["s3:*"],
        resources=[deployment.access_point.arn]))
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    [violation] = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violation["ruleName"] == "MrapPolicyDeniesEverything"
    # The finding names the stack as CloudFormation knows it, not its artifact id (hashed for the set's stacks,
    # which are children of the MrapSet construct: ``ruledsetruledaccesspoint9A76E4AE``).
    assert violation["description"].startswith("ruled-access-point: statement 1 denies")
