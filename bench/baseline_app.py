"""Hand-written L1 baseline: the same resources as the project's app, with plain Cfn* constructs only.

Per Region: data bucket + log bucket + both bucket policies (wave 1); replication role + managed policy, the
replication custom resource with its provider function, role, policy and log group, 4 alarms per destination, an
SNS topic (wave 2); in the home Region: the MRAP, its policy and a dashboard. No validation, no cdk-nag.

Run as a CDK app (what ``make bench`` times with ``cdk synth``): ``cdk synth --app "python bench/baseline_app.py N"``.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns


def build(app: cdk.App, name: str, regions: list[str], account: str, home: str = "us-west-2") -> None:
    names = {r: f"{name}-{account}-{r}" for r in regions}
    buckets = []
    for region in regions:
        stack = cdk.Stack(app, f"{name}-bucket-{region}", env=cdk.Environment(account=account, region=region))
        logs_bucket = s3.CfnBucket(stack, "Logs", versioning_configuration={"status": "Enabled"})
        bucket = s3.CfnBucket(
            stack, "Bucket", bucket_name=names[region], versioning_configuration={"status": "Enabled"},
            public_access_block_configuration={"blockPublicAcls": True, "blockPublicPolicy": True,
                                               "ignorePublicAcls": True, "restrictPublicBuckets": True},
            bucket_encryption={"serverSideEncryptionConfiguration": [
                {"serverSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
            ownership_controls={"rules": [{"objectOwnership": "BucketOwnerEnforced"}]},
            logging_configuration={"destinationBucketName": logs_bucket.ref, "logFilePrefix": "access-logs/"},
        )
        for target, statement in ((bucket, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                             "Action": ["s3:GetObject", "s3:PutObject"],
                                             "Resource": [f"arn:aws:s3:::{names[region]}/*"],
                                             "Condition": {"StringEquals": {"s3:DataAccessPointAccount": account}}}),
                                  (logs_bucket, {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                                                 "Action": "s3:PutObject", "Resource": "*"})):
            s3.CfnBucketPolicy(stack, f"Policy{target.node.id}", bucket=target.ref,
                               policy_document={"Version": "2012-10-17", "Statement": [statement]})
        buckets.append(stack)

    for source in regions:
        stack = cdk.Stack(app, f"{name}-replication-{source}", env=cdk.Environment(account=account, region=source))
        role = iam.CfnRole(stack, "Role", assume_role_policy_document={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        destinations = [r for r in regions if r != source]
        iam.CfnManagedPolicy(stack, "RolePolicy", roles=[role.ref], policy_document={
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:ReplicateObject"], "Resource": f"arn:aws:s3:::{names[d]}/*"}
                for d in destinations] or [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
        provider_role = iam.CfnRole(stack, "ProviderRole", assume_role_policy_document={
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]})
        log_group = logs.CfnLogGroup(stack, "ProviderLogs", retention_in_days=365)
        function = lambda_.CfnFunction(stack, "Provider", role=provider_role.attr_arn, runtime="nodejs22.x",
                                       handler="index.handler", code={"zipFile": "exports.handler = async () => {}"},
                                       logging_config={"logGroup": log_group.ref})
        rules = [{"ID": f"to-{d}", "Priority": i + 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                  "DeleteMarkerReplication": {"Status": "Enabled"},
                  "Destination": {"Bucket": f"arn:aws:s3:::{names[d]}"}} for i, d in enumerate(destinations)]
        cdk.CfnCustomResource(stack, "Replication", service_token=function.attr_arn).add_property_override(
            "Create", json.dumps({"service": "S3", "action": "PutBucketReplication", "parameters": {
                "Bucket": names[source], "ReplicationConfiguration": {"Role": role.attr_arn, "Rules": rules}}}))
        topic = sns.CfnTopic(stack, "Topic", kms_master_key_id="alias/aws/sns")
        for d in destinations:
            for metric in ("ReplicationLatency", "OperationsPendingReplication", "BytesPendingReplication",
                           "OperationsFailedReplication"):
                cw.CfnAlarm(stack, f"{metric}{d.replace('-', '')}", metric_name=metric, namespace="AWS/S3",
                            dimensions=[{"name": "SourceBucket", "value": names[source]},
                                        {"name": "DestinationBucket", "value": names[d]},
                                        {"name": "RuleId", "value": f"to-{d}"}],
                            statistic="Maximum", period=300, evaluation_periods=3, threshold=900,
                            comparison_operator="GreaterThanThreshold", alarm_actions=[topic.ref])
        for bucket_stack in buckets:
            stack.add_stack_dependency(bucket_stack)

    stack = cdk.Stack(app, f"{name}-access-point", env=cdk.Environment(account=account, region=home))
    mrap = s3.CfnMultiRegionAccessPoint(stack, "Mrap", name=name, regions=[{"bucket": names[r]} for r in regions])
    s3.CfnMultiRegionAccessPointPolicy(stack, "Policy", mrap_name=mrap.ref, policy={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                                                "Action": "s3:GetObject",
                                                "Resource": f"arn:aws:s3::{account}:accesspoint/{mrap.attr_alias}/object/*"}]})
    widgets = [{"type": "metric", "properties": {"region": r, "metrics": [
        ["AWS/S3", "ReplicationLatency", "SourceBucket", names[r], "DestinationBucket", names[d], "RuleId", f"to-{d}"]
        for d in regions if d != r]}} for r in regions]
    cw.CfnDashboard(stack, "Dashboard", dashboard_body=json.dumps({"widgets": widgets}))
    for bucket_stack in buckets:
        stack.add_stack_dependency(bucket_stack)


def main(n: int) -> None:
    """The app for ``n`` Regions, in the order ``make bench`` uses (``bench.ORDER``)."""
    from bench import ACCOUNT, NAME, ORDER

    app = cdk.App()
    build(app, NAME, ORDER[:n], ACCOUNT)
    app.synth()


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(int(sys.argv[1]))
