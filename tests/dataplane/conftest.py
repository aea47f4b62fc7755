"""In-process moto (``mock_aws``) with the replication engine: the data-plane core without a server."""

from __future__ import annotations

import json
import os

import pytest

from mrap_constructs.testing.dataplane import moto_hooks
from mrap_constructs.testing.dataplane.replication import ReplicationEngine
from tests.client_cache import ClientCache
from tests.conftest import create_bucket

ACCOUNT = "123456789012"
REPLICATE = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:GetObjectVersionForReplication",
             "s3:GetObjectVersionTagging", "s3:GetReplicationConfiguration", "s3:ListBucket"]


@pytest.fixture
def hooks():
    """moto in-process with the replication hooks installed for the test (undone after it), reporting to a fresh
    engine (``hooks.engine``; a test may point them elsewhere, or at None to make them inert)."""
    import moto

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    with moto.mock_aws():
        eng = ReplicationEngine(delay=0.05).start()
        try:
            with moto_hooks.installed(eng) as installed:
                yield installed
        finally:
            eng.stop()


@pytest.fixture
def engine(hooks):
    return hooks.engine


#: The plain clients of these tests, each built once (``ClientCache``).
CLIENTS = ClientCache()


def s3(region: str = "us-east-1"):
    return CLIENTS.client("s3", region_name=region)


def make_bucket(name: str, region: str) -> str:
    return create_bucket(s3(region), name)


def make_role(name: str = "replication", actions: list[str] | None = None, deny: list[str] | None = None) -> str:
    iam = CLIENTS.client("iam", region_name="us-east-1")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "s3.amazonaws.com"}}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    statements = [{"Effect": "Allow", "Action": actions if actions is not None else REPLICATE, "Resource": "*"}]
    if deny:
        statements.append({"Effect": "Deny", "Action": deny, "Resource": "*"})
    iam.put_role_policy(RoleName=name, PolicyName="replicate",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return arn


def rule(destination: str, *, id: str | None = None, priority: int = 1, prefix: str | None = "",
         tags: dict[str, str] | None = None, delete_markers: bool = True, metrics: bool = False,
         sse_kms: bool = False, replica_modifications: bool = False, kms_key: str | None = None,
         status: str = "Enabled") -> dict:
    if tags:
        filter_ = {"And": {"Prefix": prefix or "", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}}
    else:
        filter_ = {"Prefix": prefix or ""}
    result = {"ID": id or f"to-{destination}", "Priority": priority, "Status": status, "Filter": filter_,
              "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
              "Destination": {"Bucket": f"arn:aws:s3:::{destination}"}}
    if metrics:
        result["Destination"]["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    if kms_key:
        result["Destination"]["EncryptionConfiguration"] = {"ReplicaKmsKeyID": kms_key}
    criteria = {}
    if sse_kms:
        criteria["SseKmsEncryptedObjects"] = {"Status": "Enabled"}
    if replica_modifications:
        criteria["ReplicaModifications"] = {"Status": "Enabled"}
    if criteria:
        result["SourceSelectionCriteria"] = criteria
    return result


def replicate(source: str, region: str, role: str, *rules: dict) -> None:
    s3(region).put_bucket_replication(Bucket=source, ReplicationConfiguration={"Role": role, "Rules": list(rules)})
