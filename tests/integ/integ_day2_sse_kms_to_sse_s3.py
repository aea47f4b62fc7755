"""Integ test (aws-cdk.integ-tests-alpha, run by @aws-cdk/integ-runner): finding 1 of issue #26 — an ``MrapSet``
with SSE-KMS buckets and ``removal_policy`` DESTROY switched to SSE-S3.

The snapshot is the *base* (``MRAP_INTEG_PHASE`` unset). ``MRAP_INTEG_PHASE=change`` synthesizes the
change: integ-runner's diff against the snapshot flags every destructive change of a resource that exists
(replacement, deletion); the accepted ones are in ``allow_destroy`` with the reason. A KMS key is *not* among them:
leaving the template it is retained (``DeletionPolicy: Retain``), so no SSE-KMS object becomes unreadable — but
integ-runner counts any removal as destructive, so it is listed, with that reason.

On AWS (an account, ``cdk bootstrap``), the base→change update: ``MRAP_INTEG_PHASE=change integ-runner
--update-on-failed --update-workflow --directory tests/integ --language python`` deploys the snapshot (the base),
then the change as a stack update, runs the assertions below, and destroys. See docs/testing.md.
"""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest

from mrap_constructs import MrapSet

CHANGE = os.environ.get("MRAP_INTEG_PHASE") == "change"
REGIONS = ["us-east-1", "eu-west-1"]

app = cdk.App()
mrap = MrapSet(app, "Day2Kms", name="integ-day2-kms", regions=REGIONS, home_region="us-west-2",
               encryption=s3.BucketEncryption.S3_MANAGED if CHANGE else s3.BucketEncryption.KMS,
               removal_policy=cdk.RemovalPolicy.DESTROY)
stacks = [*mrap.bucket_stacks.values(), *mrap.replication_stacks.values(), mrap.access_point_stack]

integ = IntegTest(
    app, "Day2SseKmsToSseS3", test_cases=stacks, stack_update_workflow=True,
    # The accepted destructive changes of the switch (the removals in each bucket stack's diff, base -> change):
    allow_destroy=[
        # Removed from the template but retained (DeletionPolicy Retain): the key stays Enabled, every SSE-KMS
        # object and replica still decrypts (proven on the emulator by tests/e2e/test_day2.py::test_1_...).
        "AWS::KMS::Key",
        # The key's alias is deleted; S3 recorded the key ARN (not the alias) with every object, so nothing depends
        # on it.
        "AWS::KMS::Alias",
    ],
)
# After the deploy: every bucket still versioned (the replication resources keep working).
for bucket in mrap.bucket_names.values():
    integ.assertions.aws_api_call("S3", "getBucketVersioning", {"Bucket": bucket}).expect(
        ExpectedResult.object_like({"Status": "Enabled"}))

app.synth()
