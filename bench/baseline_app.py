"""Hand-written L1 baseline: the same resources as the project's app, with plain Cfn* constructs (and a file asset).

The same stacks, waves and templates as the project's app for the bench's config (full mesh, monitoring on):
tests/unit/test_bench.py compares them stack by stack, resource by resource, property by property; only logical ids,
metadata and the S3 key of the custom resource function's code differ (both ship a handler directory as a file
asset: a stand-in here, ``bench/sdk_call_handler``; aws-cdk-lib's SDK-call handler there). Written the way one would
by hand:

- wave 1, per Region: the data bucket and its access-log bucket, each with a TLS-only bucket policy (the data
  bucket's delegates to access points of the account, the log bucket's admits S3 log delivery);
- wave 2, per Region: the replication role and its managed policy; the replication custom resource with its
  provider function, role, managed policy and log group; an SNS topic with a TLS-only policy; per failure kind, a
  metric-math alarm on the highest value over the source's rules (two beyond 10 destinations);
- wave 2, in the home Region: the MRAP, its policy and a dashboard.

With one Region there is nothing to replicate: no replication stack.

No validation, no cdk-nag. Run as a CDK app (what ``make bench`` times with ``cdk synth``):
``cdk synth --app "python bench/baseline_app.py N"``.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns

#: The stand-in handler the custom resource function ships (the project ships aws-cdk-lib's SDK-call handler).
HANDLER_DIR = Path(__file__).resolve().parent / "sdk_call_handler"

VERSION = "2012-10-17"
OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion",
                  "s3:GetObject", "s3:GetObjectAttributes", "s3:GetObjectTagging", "s3:GetObjectVersion",
                  "s3:GetObjectVersionAttributes", "s3:GetObjectVersionTagging", "s3:ListBucket",
                  "s3:ListBucketMultipartUploads", "s3:ListBucketVersions", "s3:ListMultipartUploadParts",
                  "s3:PutObject", "s3:PutObjectTagging"]
BLOCK_ALL = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
             "restrictPublicBuckets": True}
#: (logical id prefix, metric, statistic, threshold, evaluation periods, what breaching means) per source bucket.
ALARMS = (("Failed", "OperationsFailedReplication", "Sum", 0, 1, "more than 0 failed operations in 5 minutes"),
          ("Latency", "ReplicationLatency", "Maximum", 900, 3, "latency above 900 s for 3 periods of 5 minutes"),
          ("PendingOperations", "OperationsPendingReplication", "Maximum", 10_000, 3,
           "more than 10,000 operations pending for 3 periods of 5 minutes"),
          ("PendingBytes", "BytesPendingReplication", "Maximum", 10 * 1024**3, 3,
           "more than 10,737,418,240 bytes pending for 3 periods of 5 minutes"))
#: A metric-math alarm references at most 10 metrics.
MAX_METRICS = 10


def _tls_only(resource: list | str, principal: object = None) -> dict:
    return {"Effect": "Deny", "Principal": principal or {"AWS": "*"}, "Action": "s3:*", "Resource": resource,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def _bucket(stack: cdk.Stack, id: str, **props) -> s3.CfnBucket:
    bucket = s3.CfnBucket(stack, id, versioning_configuration={"status": "Enabled"},
                          public_access_block_configuration=BLOCK_ALL,
                          ownership_controls={"rules": [{"objectOwnership": "BucketOwnerEnforced"}]}, **props)
    bucket.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    return bucket


def _bucket_stack(app: cdk.App, name: str, region: str, bucket_name: str, account: str) -> cdk.Stack:
    stack = cdk.Stack(app, f"{name}-bucket-{region}", env=cdk.Environment(account=account, region=region),
                      description=f"MRAP {name}: bucket in {region} (wave 1)")
    logs_bucket = _bucket(stack, "AccessLogs", bucket_encryption={"serverSideEncryptionConfiguration": [
        {"serverSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]})
    bucket = _bucket(stack, "Bucket", bucket_name=bucket_name, bucket_encryption={"serverSideEncryptionConfiguration": [
        {"bucketKeyEnabled": False, "serverSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        logging_configuration={"destinationBucketName": logs_bucket.ref, "logFilePrefix": "access-logs/"})
    s3.CfnBucketPolicy(stack, "AccessLogsPolicy", bucket=logs_bucket.ref, policy_document=_document(
        _tls_only([logs_bucket.attr_arn, f"{logs_bucket.attr_arn}/*"]),
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"{logs_bucket.attr_arn}/access-logs/*",
         "Condition": {"ArnLike": {"aws:SourceArn": bucket.attr_arn},
                       "StringEquals": {"aws:SourceAccount": account}}}))
    s3.CfnBucketPolicy(stack, "BucketPolicy", bucket=bucket.ref, policy_document=_document(
        _tls_only([bucket.attr_arn, f"{bucket.attr_arn}/*"]),
        {"Sid": "DelegateToAccessPointsOfAccount", "Effect": "Allow",
         "Principal": {"AWS": "*"}, "Action": OBJECT_ACTIONS,
         "Resource": [bucket.attr_arn, f"{bucket.attr_arn}/*"],
         "Condition": {"StringEquals": {"s3:DataAccessPointAccount": account}}}))
    cdk.CfnOutput(stack, "BucketName", value=bucket.ref)
    cdk.CfnOutput(stack, "BucketRegion", value=region)
    return stack


def _document(*statements: dict) -> dict:
    return {"Version": VERSION, "Statement": list(statements)}


def _allow(actions: list[str] | str, resource: object, sid: str | None = None) -> dict:
    statement = {"Effect": "Allow", "Action": actions, "Resource": resource}
    return {"Sid": sid, **statement} if sid else statement


def _one_or_list(values: list[str]) -> list[str] | str:
    return values[0] if len(values) == 1 else values


def _role(stack: cdk.Stack, id: str, service: str, description: str, condition: dict | None = None) -> iam.CfnRole:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return iam.CfnRole(stack, id, description=description,
                       assume_role_policy_document=_document(statement))


def _replication_role(stack: cdk.Stack, bucket: str, names: list[str],
                      account: str) -> tuple[iam.CfnRole, iam.CfnManagedPolicy]:
    bucket_arn = f"arn:aws:s3:::{bucket}"
    role = _role(stack, "ReplicationRole", "s3.amazonaws.com", f"S3 replication from {bucket}")
    policy = iam.CfnManagedPolicy(stack, "ReplicationRolePolicy", description=f"S3 replication from {bucket}", path="/",
                                  roles=[role.ref], policy_document=_document(
        _allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], bucket_arn, "ReadSourceConfiguration"),
        _allow(["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
               f"{bucket_arn}/*", "ReadSourceObjectVersions"),
        _allow(["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
               _one_or_list([f"arn:aws:s3:::{name}/*" for name in names]), "WriteReplicas")))
    return role, policy


def _sdk_call(stack: cdk.Stack, bucket: str, create: dict, delete: dict, role: iam.CfnRole,
              role_policy: iam.CfnManagedPolicy) -> None:
    log_group = logs.CfnLogGroup(stack, "SdkCallProviderLogs", retention_in_days=365)
    log_group.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    provider_role = _role(stack, "SdkCallProviderRole", "lambda.amazonaws.com",
                          "Makes the AWS API calls of this stack's custom resources")
    statements = [_allow(["logs:CreateLogStream", "logs:PutLogEvents"], log_group.attr_arn, "WriteOwnLogs"),
                  _allow(["s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration"],
                         f"arn:aws:s3:::{bucket}"),
                  _allow("iam:PassRole", role.attr_arn)]
    provider_policy = iam.CfnManagedPolicy(stack, "SdkCallProviderPolicy", path="/", roles=[provider_role.ref],
                                           description="Exactly the API calls of this stack's AwsCustomResources",
                                           policy_document=_document(*statements))
    # The handler directory is a file asset (the standard way to ship Lambda code; L1 has none of its own).
    handler = s3_assets.Asset(stack, "SdkCallHandler", path=str(HANDLER_DIR))
    function = lambda_.CfnFunction(stack, "SdkCallFunction", role=provider_role.attr_arn, runtime="nodejs24.x",
                                   handler="index.handler", timeout=120, logging_config={"logGroup": log_group.ref},
                                   code={"s3Bucket": handler.s3_bucket_name, "s3Key": handler.s3_object_key})
    function.node.add_dependency(provider_role)
    rules = create["parameters"]["ReplicationConfiguration"]["Rules"]
    create, delete = (json.dumps(call, separators=(",", ":")) for call in (create, delete))
    replication = cdk.CfnResource(stack, "Replication", type="Custom::S3BucketReplication", properties={
        "ServiceToken": function.attr_arn, "Create": create, "Update": create, "Delete": delete,
        "Bucket": bucket, "Rules": rules,
        "InstallLatestAwsSdk": False})
    replication.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    replication.node.add_dependency(provider_policy, role_policy)


def _alarms(stack: cdk.Stack, name: str, bucket: str, names: dict[str, str], destinations: list[str],
            account: str, home: str) -> sns.CfnTopic:
    from_alarms = {"StringEquals": {"aws:SourceAccount": account},
                   "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{stack.region}:{account}:alarm:*"}}
    key = kms.CfnKey(stack, "AlarmsTopicKey", description="Encrypts MRAP replication alarm notifications (CloudWatch "
                     "may use it)", enable_key_rotation=True, key_policy=_document(
        {"Action": "kms:*", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Resource": "*"},
        {"Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Condition": from_alarms, "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Resource": "*",
         "Sid": "AllowCloudWatchAlarmsToPublish"}))
    key.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    topic = sns.CfnTopic(stack, "AlarmsTopic", display_name=f"MRAP replication alarms ({bucket})",
                         kms_master_key_id=key.attr_arn)
    sns.CfnTopicPolicy(stack, "AlarmsTopicPolicy", topics=[topic.ref], policy_document=_document(
        {**_tls_only(topic.ref, "*"), "Action": "sns:Publish", "Sid": "AllowPublishThroughSSLOnly"},
        {"Action": "sns:Publish", "Condition": from_alarms, "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Resource": topic.ref,
         "Sid": "AllowCloudWatchAlarmsToPublish"}))
    groups = -(-len(destinations) // MAX_METRICS)
    size = -(-len(destinations) // groups)
    dashboard = f"mrap-{name}"
    where = (f"the alarm's graph has one line per rule, labelled with its rule id (to-REGION); or dashboard {dashboard} "
             f"({home}), row 'from {stack.region}', one line per destination: https://{home}.console.aws.amazon.com/"
             f"cloudwatch/home?region={home}#dashboards/dashboard/{dashboard}")
    for prefix, metric, statistic, threshold, periods, breach in ALARMS:
        for index in range(groups):
            group = destinations[index * size:(index + 1) * size]
            queries = [{"id": f"m{i}", "label": f"to-{d}", "returnData": False, "metricStat": {
                "metric": {"namespace": "AWS/S3", "metricName": metric, "dimensions": [
                    {"name": "SourceBucket", "value": bucket}, {"name": "DestinationBucket", "value": names[d]},
                    {"name": "RuleId", "value": f"to-{d}"}]},
                "period": 300, "stat": statistic}} for i, d in enumerate(group)]
            queries.append({"id": "highest", "expression": f"MAX([{','.join(q['id'] for q in queries)}])",
                            "returnData": True, "label": f"highest {metric} of {len(group)} rules"})
            cw.CfnAlarm(stack, f"Alarms{prefix}{index + 1 if index else ''}", metrics=queries, threshold=threshold,
                        evaluation_periods=periods, comparison_operator="GreaterThanThreshold",
                        treat_missing_data="ignore", alarm_actions=[topic.ref], ok_actions=[topic.ref],
                        alarm_description=f"S3 replication from {bucket}: {breach} on a rule to "
                                          f"{', '.join(group)}. Which destination: {where}")
    return topic


def _replication_stack(app: cdk.App, name: str, source: str, names: dict[str, str], account: str,
                       home: str) -> cdk.Stack:
    stack = cdk.Stack(app, f"{name}-replication-{source}", env=cdk.Environment(account=account, region=source),
                      description=f"MRAP {name}: replication from {source} (wave 2)")
    bucket = names[source]
    destinations = sorted(r for r in names if r != source)
    physical_id = {"id": f"{bucket}-replication"}
    delete = {"action": "DeleteBucketReplication", "service": "S3", "parameters": {"Bucket": bucket},
              "physicalResourceId": physical_id}
    role, role_policy = _replication_role(stack, bucket, [names[d] for d in destinations], account)
    rules = [{"ID": f"to-{d}", "Priority": i + 1, "Status": "Enabled", "Filter": {"Prefix": ""},
              "DeleteMarkerReplication": {"Status": "Enabled"},
              "Destination": {"Bucket": f"arn:aws:s3:::{names[d]}",
                              "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}},
              "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Enabled"}}}
             for i, d in enumerate(destinations)]
    put = {"action": "PutBucketReplication", "service": "S3",
           "parameters": {"Bucket": bucket, "ReplicationConfiguration": {"Role": role.attr_arn, "Rules": rules}},
           "physicalResourceId": physical_id}
    _sdk_call(stack, bucket, put, delete, role, role_policy)
    topic = _alarms(stack, name, bucket, names, destinations, account, home)
    cdk.CfnOutput(stack, "AlarmTopicArn", value=topic.ref)
    cdk.CfnOutput(stack, "ReplicationRoleArn", value=role.attr_arn)
    cdk.CfnOutput(stack, "ReplicationDestinations", value=",".join(destinations))
    return stack


def _access_point_stack(app: cdk.App, name: str, names: dict[str, str], account: str, home: str) -> cdk.Stack:
    stack = cdk.Stack(app, f"{name}-access-point", env=cdk.Environment(account=account, region=home),
                      description=f"MRAP {name}: the Multi-Region Access Point and its policy (wave 2)")
    mrap = s3.CfnMultiRegionAccessPoint(stack, "AccessPoint", name=name, public_access_block_configuration=BLOCK_ALL,
                                        regions=[{"bucket": names[r]} for r in sorted(names)])
    mrap.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
    arn = f"arn:aws:s3::{account}:accesspoint/{mrap.attr_alias}"
    policy = s3.CfnMultiRegionAccessPointPolicy(stack, "AccessPointPolicy", mrap_name=mrap.ref, policy=_document(
        {**_allow(OBJECT_ACTIONS, [f"{arn}/object/*", arn], "AllowOwningAccountPrincipals"),
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}))
    policy.apply_removal_policy(cdk.RemovalPolicy.RETAIN)  # a deleted MRAP policy is reset, not removed
    hostname = f"{mrap.attr_alias}.accesspoint.s3-global.amazonaws.com"
    routes = ", ".join(f"{r} active" for r in sorted(names))
    widgets: list[dict] = [{"type": "text", "width": 24, "height": 4, "x": 0, "y": 0, "properties": {
        "markdown": f"# Multi-Region Access Point\nAlias `{mrap.attr_alias}` · hostname `{hostname}`\n\n"
                    f"Routes (as deployed): {routes}"}}]
    for row, source in enumerate(sorted(names) if len(names) > 1 else []):
        for column, (title, metric, statistic) in enumerate((
                ("Replication latency from {} (s)", "ReplicationLatency", "Maximum"),
                ("Pending from {} (operations)", "OperationsPendingReplication", "Maximum"),
                ("Failed replication from {}", "OperationsFailedReplication", "Sum"))):
            search = (f"SEARCH('{{AWS/S3,SourceBucket,DestinationBucket,RuleId}} MetricName=\"{metric}\" "
                      f"SourceBucket=\"{names[source]}\"', '{statistic}', 300)")
            widgets.append({"type": "metric", "width": 8, "height": 6, "x": column * 8, "y": 4 + row * 6,
                            "properties": {"view": "timeSeries", "title": title.format(source), "region": source,
                                           "metrics": [[{"expression": search, "region": source}]], "yAxis": {}}})
    cw.CfnDashboard(stack, "Dashboard", dashboard_name=f"mrap-{name}",
                    dashboard_body=stack.to_json_string({"widgets": widgets}))
    cdk.CfnOutput(stack, "MrapName", value=name)
    cdk.CfnOutput(stack, "MrapAlias", value=mrap.attr_alias)
    cdk.CfnOutput(stack, "MrapArn", value=arn)
    cdk.CfnOutput(stack, "MrapHostname", value=hostname)
    return stack


def build(app: cdk.App, name: str, regions: list[str], account: str, home: str = "us-west-2") -> None:
    """Add the baseline's stacks for ``regions`` to ``app`` (wave 2 depends on every wave-1 stack)."""
    names = {r: f"{name}-{account}-{r}" for r in regions}
    buckets = [_bucket_stack(app, name, region, names[region], account) for region in regions]
    # One Region replicates nowhere: no replication stack.
    second = ([_replication_stack(app, name, source, names, account, home) for source in regions]
              if len(regions) > 1 else [])
    second.append(_access_point_stack(app, name, names, account, home))
    for stack in second:
        for bucket_stack in buckets:
            stack.add_stack_dependency(bucket_stack)


def main(n: int) -> None:
    """The app for ``n`` Regions, in the order ``make bench`` uses (``bench.ORDER``)."""
    from bench import ACCOUNT, APP_CONTEXT, NAME, ORDER

    app = cdk.App(context=APP_CONTEXT)
    build(app, NAME, ORDER[:n], ACCOUNT)
    app.synth()


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(int(sys.argv[1]))
