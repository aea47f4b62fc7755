"""Wave 3: per source bucket holding data, the S3 Batch Replication job that copies what it held before its rules."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs.backfill import DEFAULT_BACKFILL_KEY, BatchReplicationBackfill


class BackfillStack(Stack):
    """Starts the backfill of ``source_bucket_name`` once; deploys after that bucket's replication stack."""

    def __init__(self, scope: Construct, id: str, *, env: Environment, source_bucket_name: str, mrap_name: str,
                 backfill_key: str = DEFAULT_BACKFILL_KEY, removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
                 source_kms_key_arn: str | None = None, description: str | None = None,
                 stack_name: str | None = None) -> None:
        super().__init__(scope, id, env=env, description=description, stack_name=stack_name)
        source = s3.Bucket.from_bucket_name(self, "Source", source_bucket_name)
        self.backfill = BatchReplicationBackfill(self, "Backfill", source_bucket=source, mrap_name=mrap_name,
                                                 backfill_key=backfill_key, removal_policy=removal_policy,
                                                 source_kms_key_arn=source_kms_key_arn)
        CfnOutput(self, "BackfillJobId", value=self.backfill.job_id)
        CfnOutput(self, "BackfillReportBucket", value=self.backfill.report_bucket.bucket_name)
