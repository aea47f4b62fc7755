"""Wave 1: one stack per Region with the MRAP's bucket (and its access-log bucket and KMS key)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._nag import acknowledge_all, compliance
from mrap_constructs.bucket import MrapBucket, _arn_account
from mrap_constructs.cloudfront import admit_cloudfront
from mrap_constructs.log_bucket import AccessLogBucket
from mrap_constructs.naming import account_root_principal


class RegionalBucketStack(Stack):
    """The bucket of one Region, named deterministically so other Regions' stacks can refer to it.

    Args:
        bucket_name: the deterministic ``{prefix}-{account}-{region}`` name.
        kms_alias: create a KMS key with this alias (SSE-KMS). Default: None (SSE-S3).
        access_logs: create a log bucket and send S3 server access logs to it. Default: True.
        request_metrics: CloudWatch request metrics on the bucket. Default: False.
        access_point_account: the MRAP's account when it is not this stack's (cross-account). Default: this one.
        replication_source_roles: replication roles of other accounts allowed to write replicas. Default: none.
        kms_default_encryption: with ``kms_alias``, make the key the bucket's default encryption. False keeps SSE-S3
            as the default (the key exists for the replication rules): step 1 of switching to SSE-KMS. Default: True.
        removal_policy: for the buckets. Default: RETAIN. The key is always retained, whatever this says: a key that
            encrypted objects must outlive them, and KMS deletion makes every object and replica under it unreadable
            for good (https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html); delete it yourself
            once no object uses it (``aws kms schedule-key-deletion``).
        cloudfront_account: let CloudFront distributions of this account decrypt with the key (a distribution serves
            the MRAP). Default: None (no CloudFront statement).
        state_reader_role_name: with ``access_point_account``, create this read-only role (the bucket's replication
            configuration and its replication metrics), assumable from the MRAP account by ``state_reader_principals``
            only: the routes handler and ``mrap activate``/``mrap failover`` read this account's state through it.
            Default: None (no role).
        state_reader_principals: ARNs (``ArnLike`` patterns) of the MRAP account's principals that may assume the
            reader role, named in an ``aws:PrincipalArn`` condition (they may not exist yet). Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        bucket_name: str,
        kms_alias: str | None = None,
        kms_default_encryption: bool = True,
        access_logs: bool = True,
        request_metrics: bool = False,
        access_point_account: str | None = None,
        replication_source_roles: Sequence[str] = (),
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        cloudfront_account: str | None = None,
        state_reader_role_name: str | None = None,
        state_reader_principals: Sequence[str] = (),
        description: str | None = None, stack_name: str | None = None,
    ) -> None:
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        self.log_bucket: s3.IBucket | None = (
            AccessLogBucket(self, "AccessLogs", removal_policy=removal_policy).bucket if access_logs else None
        )
        key = None
        if kms_alias:
            # RETAIN whatever removal_policy says: switching encryption away (the key leaves the stack) or destroying
            # the stack would otherwise schedule the key's deletion, and every SSE-KMS object and replica under it
            # becomes unreadable, then lost (KMS "Deleting AWS KMS keys",
            # https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html).
            key = kms.Key(self, "Key", alias=kms_alias, enable_key_rotation=True, removal_policy=RemovalPolicy.RETAIN,
                          description=f"Encrypts {bucket_name} and the replicas written into it")
            if cloudfront_account:
                admit_cloudfront(key, cloudfront_account)
            if replication_source_roles:
                admit_replication_roles(key, list(replication_source_roles))
        self.mrap_bucket = MrapBucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption_key=key if kms_default_encryption else None,
            server_access_logs_bucket=self.log_bucket,
            removal_policy=removal_policy,
            request_metrics=request_metrics,
            access_point_account=access_point_account,
            replication_source_roles=replication_source_roles,
        )
        findings = compliance("S3BucketReplicationEnabled", "Replication is applied by the replication stacks "
                              "(wave 2) once every bucket exists; see mrap_constructs.replication.")
        if not access_logs:
            opted_out = "Server access logs were switched off explicitly in the config (monitoring.access_logs: false)."
            findings |= {"AwsSolutions-S1": opted_out, **compliance("S3BucketLoggingEnabled", opted_out)}
        if not key or not kms_default_encryption:
            findings |= compliance("S3DefaultEncryptionKMS", "SSE-S3 is the documented default; set "
                                   "encryption='sse-kms' for customer managed keys.")
        acknowledge_all(self.mrap_bucket, findings)
        self.state_reader: iam.Role | None = None
        if state_reader_role_name and access_point_account:
            self.state_reader = self._state_reader(state_reader_role_name, access_point_account,
                                                   list(state_reader_principals))
            CfnOutput(self, "StateReaderRoleArn", value=self.state_reader.role_arn)
        CfnOutput(self, "BucketName", value=self.mrap_bucket.bucket.bucket_name)
        CfnOutput(self, "BucketRegion", value=self.region)

    def _state_reader(self, role_name: str, mrap_account: str, principals: list[str]) -> iam.Role:
        # Cross-account reads need a grant on both sides (S3 User Guide, "Bucket owner granting cross-account bucket
        # permissions"); replication metrics live in this account's CloudWatch. A role here, assumed with STS
        # AssumeRole (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), reads both with
        # same-account permissions. Its trust names the MRAP account as principal and the callers in an
        # aws:PrincipalArn condition: they are created in a later wave (rule PrincipalCreatedLater).
        role = iam.Role(
            self, "StateReader", role_name=role_name,
            description=f"Read-only: replication state of {self.mrap_bucket.bucket.bucket_name} for the MRAP account",
            assumed_by=account_root_principal(self, mrap_account).with_conditions(
                {"ArnLike": {"aws:PrincipalArn": sorted(principals)}}),
        )
        policy = iam.ManagedPolicy(self, "StateReaderPolicy", roles=[role], statements=[
            iam.PolicyStatement(sid="ReadReplicationRules", actions=list(_perms.STATE_READER_BUCKET_ACTIONS),
                                resources=[self.mrap_bucket.bucket.bucket_arn]),
            iam.PolicyStatement(sid="ReadReplicationMetrics", actions=list(_perms.STATE_READER_METRIC_ACTIONS),
                                resources=["*"]),
        ])
        acknowledge_all(policy, {"AwsSolutions-IAM5[Resource::*]": (
            "cloudwatch:GetMetricData supports no resource-level permissions (Service Authorization Reference, "
            "Amazon CloudWatch); the role only reads metrics.")})
        return role


def admit_replication_roles(key: kms.Key, role_arns: list[str]) -> None:
    """Let other accounts' replication roles encrypt replicas with ``key``, through S3 in the key's Region only.

    Cross-account SSE-KMS replication needs the destination key's owner to grant the source's replication role
    (S3 User Guide, "Replicating encrypted objects", "Granting additional permissions for cross-account scenarios":
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html). The roles are
    created in a later wave and KMS rejects a key policy naming a principal that does not exist yet
    (``MalformedPolicyDocumentException``), so the principal is each role's account and the role ARNs sit in an
    ``aws:PrincipalArn`` condition.
    """
    stack = Stack.of(key)
    accounts = sorted({_arn_account(arn) for arn in role_arns})
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AdmitReplicationFromOtherAccounts",
        principals=[account_root_principal(stack, account) for account in accounts],
        actions=list(_perms.REPLICA_KEY_ACTIONS),
        resources=["*"],  # in a key policy, "*" is this key
        conditions={"ArnEquals": {"aws:PrincipalArn": sorted(role_arns)},
                    "StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
    ))
