"""Backfill: an S3 Batch Replication job that copies the objects a bucket held before its replication rules existed.

Live replication copies only objects written after a rule exists
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html), so an MRAP put in front of
a bucket that holds data routes readers to empty buckets. ``BatchReplicationBackfill`` starts, once, an S3 Batch
Operations job (S3 Control ``CreateJob``) with operation ``S3ReplicateObject`` over a manifest S3 generates from the
source bucket: the object versions eligible for replication whose replication status is ``NONE`` or ``FAILED``.

Request shapes are botocore's s3control model (``botocore/data/s3control/2018-08-20/service-2.json``):
``CreateJobRequest`` (``ClientRequestToken`` is the idempotency token, at most 64 characters), ``JobOperation``
(``S3ReplicateObject``, an empty ``S3ReplicateObjectOperation``), ``JobManifestGenerator`` ->
``S3JobManifestGenerator`` (``SourceBucket``, ``EnableManifestOutput``, ``ManifestOutputLocation``, ``Filter``) ->
``JobManifestGeneratorFilter`` (``EligibleForReplication``, ``ObjectReplicationStatuses``: ``ReplicationStatus``
values ``COMPLETED|FAILED|REPLICA|NONE``) and ``JobReport`` (``Bucket``, ``Format`` ``Report_CSV_20180820``,
``Enabled``, ``Prefix``, ``ReportScope`` ``AllTasks|FailedTasksOnly``).

Idempotence: the job is started by an ``AwsCustomResource`` whose *construct id carries the backfill key*
(``Job-{key}``) and which has a create call only. A redeploy sends no request (nothing changed) or an Update (the
role or report bucket changed), which makes no call; only a new ``backfill_key`` makes a new resource, hence a new
job. Delete makes no call: a job that ran cannot be undone, and one still running keeps running. The
``ClientRequestToken`` is derived from the source bucket and the key, so a retried create cannot start a second job
either.
"""

from __future__ import annotations

import hashlib
import re

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._nag import acknowledge, acknowledge_all, compliance, flatten_reference, nag_rendering
from mrap_constructs._sdk_call import sdk_call_resource
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.replication import _acknowledge_alias_key_wildcards, _kms_statement

__all__ = ["BATCH_OPERATIONS_PRINCIPAL", "BatchReplicationBackfill", "DEFAULT_BACKFILL_KEY", "REPLICATION_STATUSES",
           "backfill_token", "job_description"]

#: The service principal S3 Batch Operations assumes job roles as
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html).
BATCH_OPERATIONS_PRINCIPAL = "batchoperations.s3.amazonaws.com"
#: The key of the first backfill; change it to run another one.
DEFAULT_BACKFILL_KEY = "initial"
#: Object versions the generated manifest lists: never attempted, or failed.
REPLICATION_STATUSES = ("NONE", "FAILED")
#: Prefix of the job's Description, by which ``mrap backfill status`` finds the jobs of an MRAP (ListJobs); the same
#: as ``mrap_constructs.ops.client.BACKFILL_DESCRIPTION_PREFIX`` (the app imports no boto3 code).
DESCRIPTION_PREFIX = "mrap-backfill"
_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def backfill_token(source_bucket: str, key: str) -> str:
    """The job's ``ClientRequestToken`` (and the resource's physical id): deterministic, at most 64 characters."""
    digest = hashlib.sha256(f"{source_bucket}|{key}".encode()).hexdigest()[:24]
    return f"mrap-backfill-{key}-{digest}"[:64]


def job_description(mrap_name: str, source_region: str, key: str) -> str:
    """The job's Description: ``mrap-backfill {mrap} {region} {key}`` (what the CLI parses; at most 256)."""
    return f"{DESCRIPTION_PREFIX} {mrap_name} {source_region} {key}"


class BatchReplicationBackfill(Construct):
    """Replicates, once, the objects a bucket held before its replication rules existed (S3 Batch Replication).

    Deploy it after the source bucket's replication configuration is applied (S3 replicates each listed version
    with the bucket's rules, to every destination they name). The job runs in the stack's Region: put it in the
    source bucket's Region.

    Default settings: a private, TLS-only, versioned, SSE-S3 report bucket (``RETAIN``) receiving the completion
    report (failed tasks only) and the generated manifest; a role trusted only by S3 Batch Operations on behalf of
    this account, with exactly the Batch Replication actions AWS lists for a generated, stored manifest
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html); job priority 10; no
    confirmation.

    Args:
        scope: parent construct (in the source bucket's account and Region).
        id: construct id.
        source_bucket: the bucket holding data (with replication rules).
        mrap_name: the MRAP the backfill is for (names the job, for ``mrap backfill status``).
        backfill_key: names this backfill; a new key starts a new job (1-32 letters, digits, ``.``, ``_``, ``-``).
            Default: ``"initial"``.
        report_bucket: where the completion report and manifest go. Default: a new bucket.
        report_scope: ``FailedTasksOnly`` or ``AllTasks``. Default: ``FailedTasksOnly`` (a report line per failure).
        priority: the job's priority (0-2147483647). Default: 10.
        removal_policy: of the created report bucket. Default: ``RETAIN`` (audit data).
        source_kms_key_arn: the key (or alias ARN) that encrypts the source's SSE-KMS objects: the role may decrypt
            with it, through S3 only. Default: None (no KMS permission).

    Attributes:
        role (the Batch Operations role), report_bucket, resource (the custom resource), job_id (token: the JobId),
        token (the ClientRequestToken), backfill_key.

    Raises:
        ValueError: a bad ``backfill_key``, ``mrap_name``, ``report_scope`` or ``priority``.

    Example:
        source = s3.Bucket.from_bucket_name(stack, "Source", "media-111122223333-us-east-1")
        BatchReplicationBackfill(stack, "Backfill", source_bucket=source, mrap_name="media")
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        source_bucket: s3.IBucket,
        mrap_name: str,
        backfill_key: str = DEFAULT_BACKFILL_KEY,
        report_bucket: s3.IBucket | None = None,
        report_scope: str = "FailedTasksOnly",
        priority: int = 10,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        source_kms_key_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._validate(id, backfill_key, mrap_name, report_scope, priority)
        stack = Stack.of(self)
        self.backfill_key = backfill_key
        self.source_bucket = source_bucket
        self.report_bucket: s3.IBucket = report_bucket or self._report_bucket(removal_policy)
        report_prefix = f"backfill/{backfill_key}"

        self.role = iam.Role(
            self, "Role",
            # AWS's Batch Operations trust policy has no Condition ("Granting permissions for Batch Operations",
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html), and no AWS
            # source says S3 Batch Operations sends aws:SourceAccount or aws:SourceArn when it assumes the role: a
            # condition it does not satisfy would fail every job (as for the replication role, replication.py).
            assumed_by=iam.ServicePrincipal(BATCH_OPERATIONS_PRINCIPAL),
            description=f"S3 Batch Replication of {source_bucket.bucket_name} for MRAP {mrap_name}",
        )
        kms_statements = []
        if source_kms_key_arn:
            # "If you run S3 Batch Operations on encrypted objects, the IAM role must also have access to the AWS KMS
            # keys used to encrypt them" (same page); only through S3 in this Region, for this bucket's objects.
            kms_statements.append(_kms_statement("DecryptSourceObjects", "kms:Decrypt", source_kms_key_arn,
                                                 stack.region, source_bucket.bucket_arn))
        policy = iam.ManagedPolicy(self, "Policy", roles=[self.role], statements=[
            *kms_statements,
            iam.PolicyStatement(sid="ReplicateSourceObjects", actions=list(_perms.BATCH_REPLICATION_OBJECT_ACTIONS),
                                resources=[source_bucket.arn_for_objects("*")]),
            iam.PolicyStatement(sid="GenerateManifest", actions=list(_perms.BATCH_REPLICATION_BUCKET_ACTIONS),
                                resources=[source_bucket.bucket_arn]),
            iam.PolicyStatement(sid="ReadManifest", actions=["s3:GetObject", "s3:GetObjectVersion"],
                                resources=[self.report_bucket.arn_for_objects(f"{report_prefix}/*")]),
            iam.PolicyStatement(sid="WriteManifestAndReport", actions=["s3:PutObject"],
                                resources=[self.report_bucket.arn_for_objects(f"{report_prefix}/*")]),
        ])
        if source_kms_key_arn and ":alias/" in source_kms_key_arn:
            _acknowledge_alias_key_wildcards(policy)
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{_arn_rendering(stack, source_bucket)}/*]",
                    "s3:InitiateReplication must cover every object of the source bucket: the job replicates "
                    "whichever versions S3's manifest lists (AWS's Batch Replication policy has the same form).")
        report_objects = f"{_arn_rendering(stack, self.report_bucket)}/{report_prefix}/*"
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{report_objects}]",
                    "S3 names the manifest and report objects under the prefix (job-{id}/...); only this prefix of "
                    "the report bucket.")

        self.token = backfill_token(source_bucket.bucket_name, backfill_key)
        job = {
            "AccountId": stack.account,
            "ConfirmationRequired": False,
            "Operation": {"S3ReplicateObject": {}},
            "Priority": priority,
            "RoleArn": self.role.role_arn,
            "ClientRequestToken": self.token,
            "Description": job_description(mrap_name, stack.region, backfill_key),
            "Report": {"Enabled": True, "Bucket": self.report_bucket.bucket_arn, "Format": "Report_CSV_20180820",
                       "Prefix": report_prefix, "ReportScope": report_scope},
            "ManifestGenerator": {"S3JobManifestGenerator": {
                "SourceBucket": source_bucket.bucket_arn,
                "EnableManifestOutput": True,
                "ManifestOutputLocation": {"Bucket": self.report_bucket.bucket_arn,
                                           "ManifestPrefix": f"{report_prefix}/manifests",
                                           "ManifestFormat": "S3InventoryReport_CSV_20211130"},
                "Filter": {"EligibleForReplication": True, "ObjectReplicationStatuses": list(REPLICATION_STATUSES)},
            }},
        }
        self.resource = sdk_call_resource(
            self, f"Job-{backfill_key}", resource_type="Custom::MrapBackfillJob",
            on_create=cr.AwsSdkCall(service="S3Control", action="createJob", parameters=job, region=stack.region,
                                    physical_resource_id=cr.PhysicalResourceId.of(self.token)),
            on_update=None, on_delete=None,
            statements=[
                iam.PolicyStatement(sid=f"CreateBackfillJob{_sid(backfill_key)}", actions=["s3:CreateJob"],
                                    resources=["*"],
                                    conditions={"StringEquals": {"s3:RequestJobOperation": "S3ReplicateObject"}}),
                iam.PolicyStatement(sid=f"PassBackfillRole{_sid(backfill_key)}", actions=["iam:PassRole"],
                                    resources=[self.role.role_arn],
                                    conditions={"StringEquals": {"iam:PassedToService": BATCH_OPERATIONS_PRINCIPAL}}),
            ],
        )
        # Permissions and the report bucket exist before the job starts (S3 checks the role when it creates the job).
        self.resource.node.add_dependency(policy)
        self.resource.node.add_dependency(self.report_bucket)
        self.job_id: str = self.resource.get_response_field("JobId")
        acknowledge(stack.node.find_child("SdkCallProvider").node.find_child("Policy"),
                    "AwsSolutions-IAM5[Resource::*]",
                    "s3:CreateJob supports no resource-level permissions (Service Authorization Reference, Amazon S3: "
                    "CreateJob has no resource type); the statement is limited to S3ReplicateObject jobs.")

    def _report_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        bucket = s3.Bucket(
            self, "Reports", versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy, auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        why = "Holds only Batch Operations completion reports and generated manifests (object keys, no data)"
        acknowledge_all(bucket, {
            "AwsSolutions-S1": f"{why}; S3 writes them with the job's role, logged in CloudTrail management events.",
            **compliance("S3BucketLoggingEnabled", f"{why}; writes are the job's own, logged by CloudTrail."),
            **compliance("S3BucketReplicationEnabled", f"{why}; reports are per-Region audit data, not replicated."),
            **compliance("S3DefaultEncryptionKMS", f"{why}; SSE-S3 keeps the job role free of KMS grants."),
        })
        return bucket

    @staticmethod
    def _validate(id: str, key: str, mrap_name: str, report_scope: str, priority: int) -> None:
        problems = Problems("BatchReplicationBackfill", id)
        if not is_unresolved(key) and (why := backfill_key_problem(key)):
            problems.add("backfill_key", key, why)
        if not mrap_name or " " in mrap_name:
            problems.add("mrap_name", mrap_name, "give the MRAP's name (no spaces)")
        if report_scope not in ("AllTasks", "FailedTasksOnly"):
            problems.add("report_scope", report_scope, "use 'AllTasks' or 'FailedTasksOnly'")
        if not 0 <= priority <= 2_147_483_647:
            problems.add("priority", priority, "use 0-2147483647")
        problems.raise_if_any()


def backfill_key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a backfill, or None: the one statement of the rule (construct, ``MrapSet``, config)."""
    if not _KEY_PATTERN.match(key):
        return "use 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the job and its " \
               "resource)"
    return None


def _sid(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", key.title())


def _arn_rendering(stack: Stack, bucket: s3.IBucket) -> str:
    """The bucket's ARN as cdk-nag names it in an IAM5 finding id."""
    return nag_rendering(flatten_reference(stack.resolve(bucket.bucket_arn)))
