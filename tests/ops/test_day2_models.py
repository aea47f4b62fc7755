"""What a day-2 stack update does on AWS, as the emulator models it: each moto behaviour the model corrects (fails when
a moto upgrade changes it) paired with the corrected behaviour, with its AWS source.

- a KMS key removed from a stack is scheduled for deletion, and objects encrypted under it become unreadable;
- CloudFormation creates and updates first and deletes last (the cleanup phase), only when the update succeeded;
- a custom resource whose physical id changes gets a Delete with the OLD physical id and properties in the cleanup;
- a replaced bucket is deleted per its UpdateReplacePolicy (Retain keeps it); aws-cdk-lib's auto-delete handler;
- a deleted MRAP policy resource resets the policy to the owner account.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from mrap_constructs.testing import cfn_models, moto_patches
from tests.ops.conftest import ACCOUNT, SESSION

_KEY = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                                            "Action": "kms:*", "Resource": "*"}]}}}
_TOPIC = {"Type": "AWS::SNS::Topic"}


def _stack(name: str, resources: dict) -> None:
    SESSION.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=name, TemplateBody=json.dumps({"Resources": resources}))


def _update(name: str, resources: dict) -> str:
    cloudformation = SESSION.client("cloudformation", region_name="us-east-1")
    cloudformation.update_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))
    return cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]


def _unpatched_update(monkeypatch, moto_patched) -> None:
    from moto.cloudformation.parsing import ResourceMap

    monkeypatch.setattr(ResourceMap, "_delete_resource", moto_patched["resource_map_delete_resource"])
    monkeypatch.setattr(ResourceMap, "update", moto_patched["resource_map_update"])


# --- a KMS key removed from the stack -----------------------------------------------------------------------------


def test_moto_still_deletes_a_removed_stack_key_at_once(aws, monkeypatch, moto_patched):
    """If this fails, moto schedules a stack-deleted key's deletion: drop _kms_key_removal_schedules_deletion."""
    from moto.kms.models import Key

    monkeypatch.setattr(Key, "delete", moto_patched["kms_key_delete"])
    _stack("key-gone", {"Key": _KEY, "Topic": _TOPIC})
    _update("key-gone", {"Topic": _TOPIC})
    assert SESSION.client("kms", region_name="us-east-1").list_keys()["Keys"] == []


@pytest.mark.parametrize("window", [None, 7])
def test_a_removed_stack_key_is_pending_deletion_for_its_window(aws, window):
    """AWS::KMS::Key PendingWindowInDays: "the number of days in the waiting period before AWS KMS deletes a KMS key
    that has been removed from a CloudFormation stack" (7-30, default 30)."""
    key = {**_KEY, "Properties": {**_KEY["Properties"], **({"PendingWindowInDays": window} if window else {})}}
    _stack("key-pending", {"Key": key, "Topic": _TOPIC})
    assert _update("key-pending", {"Topic": _TOPIC}) == "UPDATE_COMPLETE"
    kms = SESSION.client("kms", region_name="us-east-1")
    [listed] = kms.list_keys()["Keys"]
    metadata = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    days = (metadata["DeletionDate"] - metadata["CreationDate"]).total_seconds() / 86400
    assert round(days) == (window or moto_patches.DEFAULT_PENDING_WINDOW_DAYS)


# --- an SSE-KMS object whose key cannot decrypt --------------------------------------------------------------------


@pytest.fixture
def kms_object(aws):
    """(bucket, object key, KMS key id): one object written with SSE-KMS under a customer managed key."""
    kms = SESSION.client("kms", region_name="eu-west-1")
    s3 = SESSION.client("s3", region_name="eu-west-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket="encrypted", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="encrypted", Key="k", Body=b"secret", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key_id}")
    return "encrypted", "k", key_id


def test_moto_still_reads_an_object_whose_key_is_pending_deletion(kms_object, monkeypatch, moto_patched):
    """If this fails, moto checks the key on GET: drop _sse_kms_reads_need_a_usable_key."""
    from moto.s3.responses import S3Response

    monkeypatch.setattr(S3Response, "get_object", moto_patched["s3_get_object"])
    bucket, key, key_id = kms_object
    SESSION.client("kms", region_name="eu-west-1").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    body = SESSION.client("s3", region_name="eu-west-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"secret"


@pytest.mark.parametrize(("make_unusable", "code", "message"), [
    (lambda kms, key_id: kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7),
     "KMS.KMSInvalidStateException", "is pending deletion."),
    (lambda kms, key_id: kms.disable_key(KeyId=key_id), "KMS.DisabledException", "is disabled."),
])
def test_an_object_whose_key_cannot_decrypt_is_unreadable(kms_object, make_unusable, code, message):
    """KMS key states (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html): Decrypt fails for a
    Disabled or PendingDeletion key, and S3 decrypts on every GET of an SSE-KMS object."""
    bucket, key, key_id = kms_object
    kms = SESSION.client("kms", region_name="eu-west-1")
    s3 = SESSION.client("s3", region_name="eu-west-1")
    make_unusable(kms, key_id)
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key=key)
    assert raised.value.response["Error"]["Code"] == code
    assert raised.value.response["Error"]["Message"].endswith(message)
    assert s3.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "aws:kms", "HEAD decrypts nothing"
    # Recovered (CancelKeyDeletion leaves it Disabled; EnableKey): readable again.
    if code == "KMS.KMSInvalidStateException":
        kms.cancel_key_deletion(KeyId=key_id)
    kms.enable_key(KeyId=key_id)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"secret"


def test_an_object_under_an_alias_records_the_key_and_outlives_the_alias(aws):
    """S3 records the key ARN with an SSE-KMS object (HeadObject answers it), so deleting the alias that named the
    key at PUT does not make the object unreadable; moto 5.2.5 keeps the alias and would resolve it at read time."""
    kms = SESSION.client("kms", region_name="us-east-1")
    s3 = SESSION.client("s3", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/data", TargetKeyId=key["KeyId"])
    s3.create_bucket(Bucket="aliased")
    s3.put_bucket_encryption(Bucket="aliased", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                               "KMSMasterKeyID": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/data"}}]})
    s3.put_object(Bucket="aliased", Key="k", Body=b"kept")
    assert s3.head_object(Bucket="aliased", Key="k")["SSEKMSKeyId"] == key["Arn"]
    kms.delete_alias(AliasName="alias/data")
    assert s3.get_object(Bucket="aliased", Key="k")["Body"].read() == b"kept"


def test_an_sse_s3_object_needs_no_key(kms_object):
    s3 = SESSION.client("s3", region_name="eu-west-1")
    s3.put_object(Bucket="encrypted", Key="plain", Body=b"open", ServerSideEncryption="AES256")
    SESSION.client("kms", region_name="eu-west-1").disable_key(KeyId=kms_object[2])
    assert s3.get_object(Bucket="encrypted", Key="plain")["Body"].read() == b"open"


# --- the cleanup phase ---------------------------------------------------------------------------------------------


def _logging_handler(monkeypatch, fail_delete_of: str | None = None) -> list[tuple[str, str, str | None]]:
    """Custom::Thing answered in-process: the physical id is the ``Id`` property; logs (request, Id, physical id)."""
    seen: list[tuple[str, str, str | None]] = []

    def handle(state, resource_type, request_type, properties, logical_id, account_id, region_name, physical_id,
               old_properties=None):
        seen.append((request_type, properties["Id"], physical_id))
        if request_type == "Delete" and properties["Id"] == fail_delete_of:
            raise RuntimeError("cannot delete")
        return properties["Id"], {}

    monkeypatch.setattr(cfn_models, "handle_custom_resource", handle)
    return seen


def _thing(id_: str) -> dict:
    return {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f", "Id": id_}}


@pytest.mark.parametrize("patched", [False, True])
def test_removed_resources_are_deleted_after_the_added_ones_are_created(aws, monkeypatch, patched, moto_patched):
    """CloudFormation updates in two phases: creates and updates, then (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS) deletes
    what was removed or replaced
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html).
    If the unpatched case fails, moto orders the update itself: drop that half of _update_removed_resources."""
    if not patched:
        _unpatched_update(monkeypatch, moto_patched)
    seen = _logging_handler(monkeypatch)
    _stack("order", {"Old": _thing("old")})
    _update("order", {"New": _thing("new")})
    order = [(request, id_) for request, id_, _ in seen[1:]]
    assert order == ([("Create", "new"), ("Delete", "old")] if patched else [("Delete", "old"), ("Create", "new")])


def test_a_changed_physical_id_gets_a_delete_with_the_old_id_in_the_cleanup(aws, monkeypatch):
    """Custom resource Update: "If you change the physical ID, CloudFormation ... sends a delete request for the old
    resource" — with the old physical id and the old properties, after the rest of the update
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html)."""
    seen = _logging_handler(monkeypatch)
    _stack("physical", {"Thing": _thing("v1")})
    _update("physical", {"Thing": _thing("v2"), "Later": _thing("added")})
    assert sorted(seen[1:3]) == [("Create", "added", None), ("Update", "v2", "v1")]
    assert seen[3:] == [("Delete", "v1", "v1")], "last, with the old physical id and properties"
    same_id = _thing("v2")
    same_id["Properties"]["Size"] = "2"
    _update("physical", {"Thing": same_id, "Later": _thing("added")})
    assert seen[-1] == ("Update", "v2", "v2"), "an update keeping the physical id sends no Delete"


def test_a_failed_update_cleans_nothing_up(aws, monkeypatch):
    """A failed update rolls back before the cleanup phase: the removed resource was never deleted."""
    seen = _logging_handler(monkeypatch)
    _stack("no-cleanup", {"Old": _thing("old"), "Thing": _thing("v1")})
    bad = {**_thing("x"), "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f"}}  # no Id: fails
    assert _update("no-cleanup", {"Thing": bad}) == "UPDATE_ROLLBACK_COMPLETE"
    assert ("Delete", "old", "old") not in seen
    assert _update("no-cleanup", {"Thing": _thing("v1")}) == "UPDATE_COMPLETE"
    assert seen[-1] == ("Delete", "old", "old"), "removed by the next update that succeeds"


def test_a_failed_cleanup_still_completes_the_update(aws, monkeypatch, emulator_patches):
    """CloudFormation does not roll back in the cleanup phase: a delete that fails leaves the old resource behind
    (DELETE_FAILED) and the stack UPDATE_COMPLETE."""
    _logging_handler(monkeypatch, fail_delete_of="old")
    _stack("cleanup-fails", {"Old": _thing("old"), "Topic": _TOPIC})
    assert _update("cleanup-fails", {"Topic": _TOPIC}) == "UPDATE_COMPLETE"
    assert emulator_patches.state.cleanup_failures == [("Old (removed)", "RuntimeError: cannot delete")]


# --- a replaced bucket and aws-cdk-lib's auto-delete handler ---------------------------------------------------------


def _bucket(name: str, policy: str) -> dict:
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
            "Properties": {"BucketName": name}}


@pytest.mark.parametrize("patched", [False, True])
def test_a_replaced_bucket_with_update_replace_policy_retain_is_kept(aws, monkeypatch, patched, moto_patched):
    """UpdateReplacePolicy Retain keeps the old resource when an update replaces it
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html).
    If the unpatched case fails, moto honours it: drop _bucket_replacement_policy."""
    from moto.s3.models import FakeBucket

    if not patched:
        monkeypatch.setattr(FakeBucket, "update_from_cloudformation_json",
                            classmethod(moto_patched["bucket_update_from_cloudformation_json"]))
    _stack("rename", {"Bucket": _bucket("old-name", "Retain")})
    assert _update("rename", {"Bucket": _bucket("new-name", "Retain")}) == "UPDATE_COMPLETE"
    names = sorted(b["Name"] for b in SESSION.client("s3", region_name="us-east-1").list_buckets()["Buckets"])
    assert names == (["new-name", "old-name"] if patched else ["new-name"])


def test_a_replaced_bucket_with_update_replace_policy_delete_goes_in_the_cleanup(aws):
    _stack("rename-delete", {"Bucket": _bucket("old-name", "Delete")})
    assert _update("rename-delete", {"Bucket": _bucket("new-name", "Delete")}) == "UPDATE_COMPLETE"
    assert [b["Name"] for b in SESSION.client("s3", region_name="us-east-1").list_buckets()["Buckets"]] == ["new-name"]


def _auto_delete(bucket: str) -> dict:
    return {"Type": "Custom::S3AutoDeleteObjects", "Properties": {
        "ServiceToken": "arn:aws:lambda:us-east-1:1:function:f", "BucketName": bucket}}


def test_the_auto_delete_handler_empties_the_old_bucket_of_a_rename(aws, monkeypatch, emulator_patches):
    """aws-cdk-lib 2.275.0's auto-delete handler answers an Update with the new bucket name as physical id, so the
    cleanup's Delete (old properties) denies PutObject on the OLD bucket and deletes all its versions — the old
    bucket itself kept by UpdateReplacePolicy Retain."""
    monkeypatch.setattr(emulator_patches.state, "client", lambda service, region, account=None: SESSION.client(
        service, region_name=region))
    tagged = {**_bucket("old-name", "Retain")}
    tagged["Properties"] = {"BucketName": "old-name", "Tags": [{"Key": cfn_models.AUTO_DELETE_TAG, "Value": "true"}]}
    _stack("auto", {"Bucket": tagged, "AutoDelete": _auto_delete("old-name")})
    s3 = SESSION.client("s3", region_name="us-east-1")
    s3.put_bucket_versioning(Bucket="old-name", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="old-name", Key="k", Body=b"v1")
    s3.put_object(Bucket="old-name", Key="k", Body=b"v2")
    renamed = {**tagged, "Properties": {**tagged["Properties"], "BucketName": "new-name"}}
    assert _update("auto", {"Bucket": renamed, "AutoDelete": _auto_delete("new-name")}) == "UPDATE_COMPLETE"
    assert s3.list_object_versions(Bucket="old-name").get("Versions", []) == [], "every version of the old bucket"
    denied = json.loads(s3.get_bucket_policy(Bucket="old-name")["Policy"])["Statement"][-1]
    assert denied == {"Principal": "*", "Effect": "Deny", "Action": ["s3:PutObject"],
                      "Resource": ["arn:aws:s3:::old-name/*"]}


def test_the_auto_delete_handler_leaves_an_untagged_bucket_alone(aws, monkeypatch, emulator_patches):
    monkeypatch.setattr(emulator_patches.state, "client", lambda service, region, account=None: SESSION.client(
        service, region_name=region))
    _stack("untagged", {"Bucket": _bucket("plain", "Retain"), "AutoDelete": _auto_delete("plain")})
    SESSION.client("s3", region_name="us-east-1").put_object(Bucket="plain", Key="k", Body=b"kept")
    _update("untagged", {"Bucket": _bucket("plain", "Retain")})
    assert SESSION.client("s3", region_name="us-east-1").get_object(Bucket="plain", Key="k")["Body"].read() == b"kept"


# --- an MRAP policy resource deleted -----------------------------------------------------------------------------


def test_a_deleted_mrap_policy_resource_resets_the_policy_to_the_owner(aws):
    """AWS::S3::MultiRegionAccessPointPolicy: "CloudFormation updates the policy to only allow access to the account
    that created the bucket" when the resource is deleted: a restriction it carried is gone."""
    s3 = SESSION.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=f"policy-{ACCOUNT}")
    mrap = {"Type": "AWS::S3::MultiRegionAccessPoint", "DeletionPolicy": "Retain",
            "Properties": {"Name": "policed", "Regions": [{"Bucket": f"policy-{ACCOUNT}"}]}}
    restricted = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}}]}
    policy = {"Type": "AWS::S3::MultiRegionAccessPointPolicy",
              "Properties": {"MrapName": "policed", "Policy": restricted}}
    _stack("mrap-policy", {"Mrap": mrap, "Policy": policy})
    assert _update("mrap-policy", {"Mrap": mrap}) == "UPDATE_COMPLETE"
    control = SESSION.client("s3control", region_name="us-west-2")
    alias = control.get_multi_region_access_point(AccountId=ACCOUNT, Name="policed")["AccessPoint"]["Alias"]
    established = control.get_multi_region_access_point_policy(AccountId=ACCOUNT, Name="policed")["Policy"][
        "Established"]["Policy"]
    assert json.loads(established) == cfn_models.owner_only_policy(ACCOUNT, alias)
    assert "SourceVpce" not in established


# --- replacements of the MRAP, its policy and a bucket policy ------------------------------------------------------


def _mrap(name: str, bucket: str, replace_policy: str = "Retain") -> dict:
    return {"Type": "AWS::S3::MultiRegionAccessPoint", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": replace_policy, "Properties": {"Name": name, "Regions": [{"Bucket": bucket}]}}


@pytest.fixture
def two_buckets(aws):
    s3 = SESSION.client("s3", region_name="us-east-1")
    for bucket in ("first-bucket", "second-bucket"):
        s3.create_bucket(Bucket=bucket)
    return "first-bucket", "second-bucket"


def _mrap_names() -> list[str]:
    control = SESSION.client("s3control", region_name="us-west-2")
    return sorted(p["Name"] for p in control.list_multi_region_access_points(AccountId=ACCOUNT)["AccessPoints"])


def test_an_mrap_replaced_under_its_own_name_rolls_back(two_buckets):
    """A custom-named resource cannot be replaced under the same name: the update fails and rolls back."""
    first, second = two_buckets
    _stack("same-name", {"Mrap": _mrap("blue", first)})
    assert _update("same-name", {"Mrap": _mrap("blue", second)}) == "UPDATE_ROLLBACK_COMPLETE"
    reason = SESSION.client("cloudformation", region_name="us-east-1").describe_stacks(StackName="same-name")[
        "Stacks"][0]["StackStatusReason"]
    assert "custom-named resource requires replacing" in reason
    point = SESSION.client("s3control", region_name="us-west-2").get_multi_region_access_point(
        AccountId=ACCOUNT, Name="blue")["AccessPoint"]
    assert [r["Bucket"] for r in point["Regions"]] == [first], "untouched"


@pytest.mark.parametrize("replace_policy", ["Retain", "Delete"])
def test_an_mrap_replaced_under_a_new_name_keeps_the_old_one_when_retained(two_buckets, replace_policy):
    """Blue/green: a new Name creates the new MRAP; the old one stays when its UpdateReplacePolicy is Retain."""
    first, second = two_buckets
    _stack("new-name", {"Mrap": _mrap("blue", first, replace_policy)})
    assert _update("new-name", {"Mrap": _mrap("green", second, replace_policy)}) == "UPDATE_COMPLETE"
    assert _mrap_names() == (["blue", "green"] if replace_policy == "Retain" else ["green"])


def test_a_bucket_policy_moved_to_another_bucket_leaves_the_old_bucket_without_one(two_buckets):
    """AWS::S3::BucketPolicy ``Bucket``: Update requires Replacement — the old bucket's policy is deleted."""
    first, second = two_buckets
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                                        "Resource": "*", "Condition": {"Bool": {
                                                            "aws:SecureTransport": "false"}}}]}

    def policy(bucket: str) -> dict:
        return {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": bucket, "PolicyDocument": document}}

    _stack("moved-policy", {"Policy": policy(first)})
    assert _update("moved-policy", {"Policy": policy(second)}) == "UPDATE_COMPLETE"
    s3 = SESSION.client("s3", region_name="us-east-1")
    assert json.loads(s3.get_bucket_policy(Bucket=second)["Policy"]) == document
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=first)


def _managed_policy(bucket: str) -> dict:
    return {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ReplicateObject",
                                                "Resource": f"arn:aws:s3:::{bucket}/*"}]}}}


_ROLE = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                            "Principal": {"Service": "s3.amazonaws.com"}}]}}}


@pytest.mark.parametrize("patched", [False, True])
def test_a_managed_policy_document_updates_in_place(aws, monkeypatch, patched):
    """AWS::IAM::ManagedPolicy ``PolicyDocument``: Update requires No interruption (a new default version).
    If the unpatched case fails, moto updates managed policies itself: drop _managed_policy_update."""
    from moto.iam.models import ManagedPolicy

    if not patched:
        monkeypatch.delattr(ManagedPolicy, "update_from_cloudformation_json")
    _stack("policy-update", {"Role": _ROLE, "Policy": _managed_policy("first")})
    _update("policy-update", {"Role": _ROLE, "Policy": _managed_policy("second")})
    iam = SESSION.client("iam", region_name="us-east-1")
    [policy] = iam.list_policies(Scope="Local")["Policies"]
    document = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Resource"] == f"arn:aws:s3:::{'second' if patched else 'first'}/*"
