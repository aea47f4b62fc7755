"""Small corrections to moto (pinned 5.2.5), each documented with the moto behaviour it corrects.

Installed (and undone) by ``patches.installed(state)``, around ``mock_aws`` or a moto server (``LocalAws`` does it).
Each patch has a test in ``tests/ops/test_moto_patches.py`` that fails when a moto upgrade changes the behaviour,
so the patch can be dropped or adjusted.
"""

from __future__ import annotations

import functools
from typing import Any

from mrap_constructs import _policy_facts
from mrap_constructs.testing import batch_operations, cfn_models, change_sets, s3_object_rules, strict
from mrap_constructs.testing.state import EmulatorState, failure_reason


def install(state: EmulatorState, originals: dict[str, Any]) -> None:
    """Install every correction, acting on ``state`` and recording what each replaced in ``originals``. Called by
    ``patches.installed(state)``, which undoes all of it on exit; never call it directly."""
    _mrap_bucket_regions(state, originals)
    _cloudformation_models(state, originals)
    _bucket_versioning_from_template(state, originals)
    _key_policy_from_template(state, originals)
    _bucket_policy_conditions(state, originals)
    _managed_policy_delete(state, originals)
    _managed_policy_update(state, originals)
    _replication_round_trip(state, originals)
    _bucket_delete_not_empty(state, originals)
    _vpc_endpoint_tags(state, originals)
    _strict_rules(state, originals)
    _update_previous_parameter_values(state, originals)
    _update_removed_resources(state, originals)
    _bucket_replacement_policy(state, originals)
    _kms_key_removal_schedules_deletion(state, originals)
    _sse_kms_reads_need_a_usable_key(state, originals)
    _update_rolls_back(state, originals)
    _create_rolls_back(state, originals)
    _change_sets(state, originals)
    _mrap_routes_api(state, originals)
    _batch_operations_jobs(state, originals)
    _s3_object_rules(state, originals)


def _s3_object_rules(state: EmulatorState, originals: dict[str, Any]) -> None:
    """SSE-C, unknown multipart upload ids and MRAP copy sources: ``s3_object_rules`` (its docstring says what moto
    does and what AWS does)."""
    s3_object_rules.install(originals)


#: The request context the emulator evaluates bucket-policy conditions with: it stands in for S3's HTTPS endpoint.
REQUEST_CONTEXT = _policy_facts.HTTPS_REQUEST_CONTEXT


def _bucket_policy_conditions(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 evaluates bucket policies on object requests with no request context, and treats a statement whose
    ``Condition`` does not match as DENIED — even an Allow. So the usual TLS-only Deny
    (``aws:SecureTransport = false``) and any conditional Allow (``s3:DataAccessPointAccount``) block every request.
    In IAM a statement whose condition does not match does not apply. The patch evaluates only the statements whose
    conditions hold for ``REQUEST_CONTEXT`` (a TLS request), with IAM's semantics: a condition on a key the request
    does not carry does not match (unless ``...IfExists``)."""
    import json

    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    originals["bucket_get_permission"] = FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        applicable = [st for st in statements
                      if _policy_facts.condition_holds(st.get("Condition", {}), REQUEST_CONTEXT)]
        if not applicable:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": applicable})).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def _cloudformation_models(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's CloudFormation silently skips ``AWS::S3::MultiRegionAccessPoint``, ``...Policy`` and
    ``AWS::S3::BucketPolicy`` (an output reading the MRAP's ``Alias`` then fails the stack with HTTP 500) and
    ``AWS::CloudWatch::Alarm`` (moto's CloudWatch has alarms, but no CloudFormation model for them), and runs
    ``Custom::*`` resources by invoking their Lambda function (needs Docker) and waiting for a response forever.
    The patch maps those types to the small models in ``cfn_models``, and runs custom resources in-process."""
    from moto.cloudformation import parsing

    models, custom_resource = cfn_models.bind(state)
    original = parsing.resource_class_from_type
    originals["resource_class_from_type"] = original

    def resource_class_from_type(resource_type: str) -> Any:
        if resource_type in models:
            return models[resource_type]
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return custom_resource
        return original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type


def _bucket_versioning_from_template(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``AWS::S3::Bucket`` ignores ``VersioningConfiguration`` (and ``ReplicationConfiguration``, which
    this project does not use on buckets). Real S3 enables versioning at creation; the patch does the same."""
    from moto.s3.models import FakeBucket, s3_backends

    def enable_versioning(bucket: Any, properties: dict, account_id: str) -> None:
        status = properties.get("VersioningConfiguration", {}).get("Status")
        if status:
            s3_backends[account_id]["aws"].put_bucket_versioning(bucket.name, status)

    _after_cloudformation_create(originals, FakeBucket, "bucket_create_from_cloudformation_json", enable_versioning)


def _key_policy_from_template(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``AWS::KMS::Key`` stores ``KeyPolicy`` as the template's object, where the API stores a JSON
    string: ``GetKeyPolicy`` and ``DescribeKey`` of a key created by a stack then fail (HTTP 500, ``TypeError: the
    JSON object must be str``). KMS returns the policy document as a string; the patch stores it as one."""
    import json

    from moto.kms.models import Key

    def policy_as_string(key: Any, properties: dict, account_id: str) -> None:
        if isinstance(key.policy, dict):
            key.policy = json.dumps(key.policy)

    _after_cloudformation_create(originals, Key, "kms_key_create_from_cloudformation_json", policy_as_string)


def _after_cloudformation_create(originals: dict[str, Any], model: Any, original_key: str, complete: Any) -> None:
    """Wrap ``model.create_from_cloudformation_json`` so ``complete(resource, properties, account_id)`` finishes
    what moto's create leaves out; the original is kept in ``originals[original_key]``."""
    original = model.create_from_cloudformation_json.__func__
    originals[original_key] = original

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        resource = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        complete(resource, cloudformation_json.get("Properties", {}), account_id)
        return resource

    model.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def mrap_alias(account: str, name: str, serial: int = 1) -> str:
    """The alias the emulator gives the ``serial``-th MRAP called ``name`` in ``account``: 13 lowercase letters and
    digits, then ``.mrap``, as AWS's (``mfzwi23gnjvgw.mrap`` in S3 User Guide, "Making requests through a
    Multi-Region Access Point"). AWS picks it at random, does not derive it from the name ("you can't determine the
    name of a Multi-Region Access Point from its alias") and never reuses one (S3 User Guide, "Rules for naming
    Amazon S3 Multi-Region Access Points",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/multi-region-access-point-naming.html). The emulator
    makes it reproducible instead: base32 of a SHA-256 of account, name and how many MRAPs of that name the account
    created since the emulator started (a re-created MRAP gets a new alias, as a replaced one does in AWS)."""
    import base64
    import hashlib

    digest = hashlib.sha256(f"{account}/{name}/{serial}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:13] + ".mrap"


def _mrap_bucket_regions(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 reports every MRAP bucket's Region as us-east-1: ``create_multi_region_access_point`` searches
    the per-Region S3 backends but skips the ``aws`` partition key where moto actually keeps buckets. Real S3 reports
    each bucket's own Region, and its owner as ``BucketAccountId`` (``RegionReport`` in
    ``botocore/data/s3control/2018-08-20/service-2.json``), which moto leaves out; the patch reads both from the
    bucket, in whichever account it is.

    moto's alias is ``{name}-{10 hex}.mrap``: longer than AWS's for every name over 2 characters (a hostname label
    AWS never produces; a 50-character name made a host over X.509's 64-character Common Name), and it gives the
    name away. The patch gives every new MRAP an alias in AWS's shape (``mrap_alias``)."""
    from moto.s3.models import s3_backends
    from moto.s3control.models import S3ControlBackend

    original = S3ControlBackend.create_multi_region_access_point
    originals["create_multi_region_access_point"] = original

    def create_multi_region_access_point(self: Any, account_id: str, name: str, public_access_block: Any,
                                         regions: list[dict[str, str]], region_name: str) -> Any:
        operation = original(self, account_id, name, public_access_block, regions, region_name)
        point = self.multi_region_access_points[account_id][name]
        serials = self.__dict__.setdefault("_mrap_alias_serials", {})
        serials[(account_id, name)] = serials.get((account_id, name), 0) + 1
        point.alias = mrap_alias(account_id, name, serials[(account_id, name)])
        for item in point.regions:
            bucket = _find_bucket(s3_backends, item["Bucket"])
            if bucket is not None:
                item["Region"] = bucket.region_name
                item["BucketAccountId"] = bucket.account_id
        return operation

    S3ControlBackend.create_multi_region_access_point = create_multi_region_access_point


def _find_bucket(backends: Any, name: str) -> Any:
    # Copies: concurrent deploys in other accounts add backends while this runs (the dict would change size).
    for account_backends in list(backends.values()):
        for backend in list(account_backends.values()):
            if name in backend.buckets:
                return backend.buckets[name]
    return None


def _managed_policy_delete(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 never deletes an ``AWS::IAM::ManagedPolicy`` with its stack (the model has no delete), so the
    policy stays attached and deleting its role fails ("must detach all policies first"): ``cdk destroy`` cannot
    finish. CloudFormation detaches and deletes the policy; the patch does the same."""
    from moto.iam.models import ManagedPolicy, iam_backends

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = iam_backends[account_id]["aws"]
        for kind, entities in (("role", backend.roles.values()), ("user", backend.users.values()),
                               ("group", backend.groups.values())):
            for entity in list(entities):
                if self.arn in entity.managed_policies:
                    getattr(backend, f"detach_{kind}_policy")(self.arn, entity.name)
        if self.arn in backend.managed_policies:
            backend.delete_policy(self.arn)

    originals["managed_policy_delete"] = getattr(ManagedPolicy, "delete", None)
    ManagedPolicy.delete = delete


def _managed_policy_update(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``AWS::IAM::ManagedPolicy`` has no update: a stack update that changes its ``PolicyDocument``
    leaves the old document in force (a replication role keeps the destinations it had, so a Region added later is
    denied ``s3:ReplicateObject``). CloudFormation updates it in place ("Update requires: No interruption") with a new
    default policy version (at most five: the oldest non-default one goes), and attaches/detaches the ``Roles``
    that changed (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html)."""
    import json

    from moto.iam.models import ManagedPolicy, iam_backends

    originals["managed_policy_update"] = ManagedPolicy.__dict__.get("update_from_cloudformation_json")

    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        props = cloudformation_json["Properties"]
        backend = iam_backends[account_id]["aws"]
        policy = backend.get_policy(original_resource.arn)
        document = props["PolicyDocument"]
        document = document if isinstance(document, str) else json.dumps(document)
        current = next(v.document for v in policy.versions if v.version_id == policy.default_version_id)
        if json.loads(current) != json.loads(document):
            if len(policy.versions) >= 5:
                oldest = next(v for v in policy.versions if v.version_id != policy.default_version_id)
                backend.delete_policy_version(policy.arn, oldest.version_id)
            backend.create_policy_version(policy.arn, document, set_as_default=True)
        wanted = set(props.get("Roles", []))
        attached = {role.name for role in backend.roles.values() if policy.arn in role.managed_policies}
        for role in sorted(wanted - attached):
            backend.attach_role_policy(policy.arn, role)
        for role in sorted(attached - wanted):
            backend.detach_role_policy(policy.arn, role)
        return policy

    ManagedPolicy.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


def _replication_round_trip(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 stores a bucket's replication configuration but answers ``GetBucketReplication`` with hard-coded
    ``DeleteMarkerReplication`` (Disabled) and drops ``Filter``/``SourceSelectionCriteria`` details, so the
    delete-marker
    setting cannot be checked. The patch returns the configuration as it was put (the XML round trip S3 does)."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    originals["get_bucket_replication"] = S3Response.get_bucket_replication

    def get_bucket_replication(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = [dict(rule) for rule in replication["Rule"]]
        return self.serialized(ActionResult({"ReplicationConfiguration": {"Role": replication["Role"],
                                                                           "Rules": rules}}))

    S3Response.get_bucket_replication = get_bucket_replication


def _bucket_delete_not_empty(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 silently keeps a non-empty ``AWS::S3::Bucket`` when its stack is deleted and reports success.
    CloudFormation fails that delete (BucketNotEmpty) — which is why aws-cdk-lib's auto-delete custom resource must
    empty the bucket first. The patch raises, so moto's delete loop retries the bucket after the other resources
    (the auto-delete resource among them) are gone, and a bucket nobody empties fails the stack, as in AWS."""
    from moto.s3.exceptions import BucketNotEmpty
    from moto.s3.models import FakeBucket, s3_backends

    original = FakeBucket.delete_from_cloudformation_json.__func__
    originals["bucket_delete_from_cloudformation_json"] = original

    def delete_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
                                        region_name: str) -> None:
        backend = s3_backends[account_id]["aws"]
        if resource_name in backend.buckets and backend.buckets[resource_name].keys:
            raise BucketNotEmpty(resource_name)
        original(cls, resource_name, cloudformation_json, account_id, region_name)

    FakeBucket.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)


def _vpc_endpoint_tags(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``AWS::EC2::VPCEndpoint`` drops ``Tags`` (its ``AWS::EC2::VPC`` keeps them), so a lookup of the
    app's endpoints by tag finds nothing. The patch tags the endpoint as CloudFormation does."""
    from moto.ec2.models.vpcs import VPCEndPoint

    def add_tags(endpoint: Any, properties: dict, account_id: str) -> None:
        for tag in properties.get("Tags", []):
            endpoint.add_tag(tag["Key"], tag["Value"])

    _after_cloudformation_create(originals, VPCEndPoint, "vpc_endpoint_create_from_cloudformation_json", add_tags)


def _strict_rules(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 accepts requests AWS rejects (replication rules, policies naming missing principals, keys services
    cannot use, MRAP limits), so a deploy that fails in AWS passes locally. ``mrap_constructs.testing.strict`` holds
    one module per AWS behaviour family; each is installed once, after the corrections above (the MRAP rule wraps the
    Region fix), and keeps what it replaced in ``originals``."""
    for install_rule in strict.RULES.values():
        install_rule(originals)
def _update_previous_parameter_values(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``UpdateStack`` looks up a ``UsePreviousValue`` parameter only among the parameters *passed* when
    the stack was created (``Stack.parameters``), so a parameter that took its template ``Default`` raises
    ``KeyError`` (an HTML 500 the AWS SDK cannot parse). Every CDK stack has one: ``BootstrapVersion``, an
    SSM-typed parameter defaulting to ``/cdk-bootstrap/hnb659fds/version``, which the CDK CLI sends back on every
    update as ``UsePreviousValue``. So every day-2 ``cdk deploy`` of a changed stack fails. CloudFormation's previous
    value of a defaulted parameter is the default it used (for an SSM type, the parameter *name*, resolved again);
    the patch falls back to the previous template's ``Default``."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend._resolve_update_parameters
    originals["resolve_update_parameters"] = original

    def _resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict[str, Any]]) -> dict:
        template = getattr(instance, "template_dict", None) or {}  # still the previous template here
        previous = {key: slot["Default"] for key, slot in template.get("Parameters", {}).items() if "Default" in slot}
        previous.update(instance.parameters)
        resolved = {p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p}
        resolved.update({p["ParameterKey"]: previous[p["ParameterKey"]] for p in incoming_params
                         if p.get("UsePreviousValue", False)})
        return resolved

    CloudFormationBackend._resolve_update_parameters = _resolve_update_parameters


#: What CloudFormation does with a resource removed from the template when its ``DeletionPolicy`` is one of these.
RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate")


def _update_removed_resources(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``UpdateStack`` mishandles resources removed from the template in three ways. It deletes every
    one, ignoring ``DeletionPolicy`` (its ``DeleteStack`` honours ``Retain``): CloudFormation keeps a removed resource
    whose policy is ``Retain`` or ``RetainExceptOnCreate`` (this app's buckets and MRAP). It deletes them *first*,
    before creating and updating the others: CloudFormation deletes them last, in the cleanup phase, and only when
    every create and update succeeded (a failed update rolls back with them intact). And it keeps the deleted
    resource in the stack's resource map, so a later update that adds the same logical id back (alarms off, then on
    again) finds the stale entry and creates nothing. The patch retains what CloudFormation retains, defers the
    deletes (and every other cleanup task, ``defer_cleanup``) to after the update, and drops every removed resource
    from the map (restoring it when the update fails).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html"""
    from moto.cloudformation.parsing import ResourceMap

    original_delete = ResourceMap._delete_resource
    original_update = ResourceMap.update
    originals["resource_map_delete_resource"] = original_delete
    originals["resource_map_update"] = original_update

    def _delete_resource(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        # DeleteStack never passes a retained resource (it filters them first) and drops what it deleted itself.
        retained = resource_json.get("DeletionPolicy") in RETAINING_POLICIES
        if not getattr(self, "_mrap_updating", False):
            if not retained:
                original_delete(self, parsed_resource, resource_json)
            return
        logical_id = getattr(parsed_resource, "logical_resource_id", None)
        removed = self._parsed_resources.pop(logical_id, None)
        if removed is not None:
            self._mrap_removed[logical_id] = removed
        if not retained:
            state.defer_cleanup(f"{logical_id} (removed)",
                                lambda: original_delete(self, parsed_resource, resource_json))

    def update(self: Any, template: dict[str, Any], parameters: dict[str, Any] | None = None) -> None:
        outer = getattr(state.cleanup, "tasks", None)
        self._mrap_updating, self._mrap_removed = True, {}
        state.cleanup.tasks = []
        try:
            original_update(self, template, parameters)
        except Exception:
            self._parsed_resources.update(self._mrap_removed)  # nothing was cleaned up: the rollback finds them
            raise
        else:
            tasks = state.cleanup.tasks
        finally:
            self._mrap_updating = False
            state.cleanup.tasks = outer
        state.run_cleanup(tasks)

    ResourceMap._delete_resource = _delete_resource
    ResourceMap.update = update


def _bucket_replacement_policy(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 replaces an ``AWS::S3::Bucket`` whose ``BucketName`` changes by creating the new bucket and deleting
    the old one at once, whatever its ``UpdateReplacePolicy``. CloudFormation deletes the old bucket in the update's
    cleanup phase, and keeps it when ``UpdateReplacePolicy`` is ``Retain`` (``Snapshot`` does not apply to buckets).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html
    (``BucketName``: "Update requires: Replacement", AWS::S3::Bucket reference)."""
    from moto.s3.models import FakeBucket

    original = FakeBucket.update_from_cloudformation_json.__func__
    originals["bucket_update_from_cloudformation_json"] = original

    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        name = cloudformation_json.get("Properties", {}).get("BucketName")
        if not name or name == original_resource.name:
            return original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        replacement = cls.create_from_cloudformation_json(name, cloudformation_json, account_id, region_name)
        if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
            old = original_resource.name
            state.defer_cleanup(f"bucket {old} (replaced)", lambda: cls.delete_from_cloudformation_json(
                old, cloudformation_json, account_id, region_name))
        return replacement

    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


#: A stack-deleted KMS key's waiting period when the template names none (AWS::KMS::Key ``PendingWindowInDays``).
DEFAULT_PENDING_WINDOW_DAYS = 30


def _kms_key_removal_schedules_deletion(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 deletes an ``AWS::KMS::Key`` outright when its stack deletes it (removed from the template, or the
    stack deleted): the key is gone from ``ListKeys`` at once. CloudFormation *schedules* the deletion: the key is
    ``PendingDeletion`` for ``PendingWindowInDays`` (7-30, default 30), unusable for any cryptographic operation
    meanwhile, and recoverable with ``CancelKeyDeletion``; then KMS deletes it and what it encrypted is lost.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html
    (``PendingWindowInDays``); https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html"""
    from moto.kms.models import Key, kms_backends

    def record_window(key: Any, properties: dict, account_id: str) -> None:
        key.mrap_pending_window = int(properties.get("PendingWindowInDays", DEFAULT_PENDING_WINDOW_DAYS))

    _after_cloudformation_create(originals, Key, "kms_key_create_with_window", record_window)
    originals["kms_key_delete"] = Key.delete

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = kms_backends[account_id][region_name]
        if self.id in backend.keys and backend.keys[self.id].key_state != "PendingDeletion":
            backend.schedule_key_deletion(self.id, getattr(self, "mrap_pending_window", DEFAULT_PENDING_WINDOW_DAYS))

    Key.delete = delete


def kms_key_problem(kms_key_id: str, account_id: str, region_name: str) -> tuple[str, str] | None:
    """(S3 error code, message) when the KMS key ``kms_key_id`` (an id, key ARN or alias) cannot decrypt, else None.

    KMS refuses Decrypt with a key that is ``Disabled`` (``DisabledException``) or ``PendingDeletion``
    (``KMSInvalidStateException``), or no longer exists (``NotFoundException``)
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html); S3 answers a GET of an SSE-KMS object
    with KMS's error code prefixed ``KMS.`` (e.g. ``KMS.KMSInvalidStateException: arn:... is pending deletion.``)."""
    key = _find_key(kms_key_id, account_id, region_name)
    if key is None:
        return "KMS.NotFoundException", f"Key '{kms_key_id}' does not exist"
    if key.key_state == "PendingDeletion":
        return "KMS.KMSInvalidStateException", f"{key.arn} is pending deletion."
    if key.key_state == "Disabled":
        return "KMS.DisabledException", f"{key.arn} is disabled."
    return None


def _sse_kms_reads_need_a_usable_key(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 stores an SSE-KMS object's key id but never uses it: ``GetObject`` answers the body whatever state
    the KMS key is in, even after the key was deleted. S3 decrypts with the key on every GET (the object's data key is
    encrypted under it), so a key that is disabled, pending deletion or deleted makes every object encrypted under it
    unreadable (``kms_key_problem``); ``HeadObject`` needs no decryption and still answers. The patch fails the GET
    as S3 does. https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"""
    from moto.s3.exceptions import S3ClientError
    from moto.s3.responses import S3Response

    original = S3Response.get_object
    originals["s3_get_object"] = original

    def get_object(self: Any) -> Any:
        version_id = self.querystring.get("versionId", [None])[0]
        key = self.backend.get_object(self.bucket_name, self.parse_key_name(), version_id=version_id)
        if key is not None and key.encryption == "aws:kms" and key.kms_key_id:
            bucket = self.backend.get_bucket(self.bucket_name)
            problem = kms_key_problem(key.kms_key_id, bucket.account_id, bucket.region_name)
            if problem is not None:
                raise S3ClientError(*problem)
        return original(self)

    S3Response.get_object = get_object

    # S3 records the key's ARN with the object, whatever names it (an alias in the bucket's default encryption):
    # HeadObject answers the key ARN in x-amz-server-side-encryption-aws-kms-key-id, and a later GET decrypts with
    # that key even after the alias is deleted or moved. moto keeps the name as given; the patch resolves an alias.
    from moto.s3.models import S3Backend

    original_put = S3Backend.put_object
    originals["s3_put_object"] = original_put

    @functools.wraps(original_put)  # moto's signature (the data plane's hooks check it)
    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        key = original_put(self, bucket_name, key_name, *args, **kwargs)
        if key is not None and key.encryption == "aws:kms" and key.kms_key_id and "alias/" in key.kms_key_id:
            bucket = self.get_bucket(bucket_name)
            key.kms_key_id = _key_arn(key.kms_key_id, bucket.account_id, bucket.region_name) or key.kms_key_id
        return key

    S3Backend.put_object = put_object


def _find_key(kms_key_id: str, account_id: str, region_name: str) -> Any:
    """The moto key ``kms_key_id`` (an id, key ARN, alias name or alias ARN) names, or None. An ARN's account and
    Region win over the given ones."""
    from moto.kms.models import kms_backends

    if kms_key_id.startswith("arn:"):
        _, _, _, region_name, account_id, _ = kms_key_id.split(":", 5)
    backend = kms_backends[account_id][region_name]
    try:
        return backend.keys.get(backend.any_id_to_key_id(kms_key_id))
    except Exception:  # an alias that names no key
        return None


def _key_arn(kms_key_id: str, account_id: str, region_name: str) -> str | None:
    """The ARN of the key ``kms_key_id`` (an id, key ARN, alias name or alias ARN) names, or None."""
    key = _find_key(kms_key_id, account_id, region_name)
    return key.arn if key is not None else None


def _update_rolls_back(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``UpdateStack`` applies the update in the request and, when a resource fails, answers HTTP 500
    (HTML) and leaves the stack half-updated: the new template recorded, the resources before the failure changed,
    status unchanged. The CDK CLI then reports an XML parse error, and its next deploy sees the new template
    already "deployed" and skips the stack, so it never converges. CloudFormation rolls the stack back to the
    previous template and parameters (custom resources get an Update back to their old properties) and ends in
    ``UPDATE_ROLLBACK_COMPLETE`` with the failure as the reason; the patch does the same (synchronously)."""
    from moto.cloudformation.models import Stack

    original = Stack.update
    originals["stack_update"] = original

    def update(self: Any, template: str, role_arn: str | None = None, parameters: dict[str, Any] | None = None,
               tags: dict[str, str] | None = None) -> None:
        previous = (self.template, dict(self.parameters), self.role_arn, dict(self.tags))
        self.stack_status_reason = None
        try:
            original(self, template, role_arn, parameters, tags)
        except Exception as err:  # any resource failure: CloudFormation reports it and rolls back
            reason = failure_reason(err)
            self._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
            try:
                original(self, previous[0], previous[2], previous[1], previous[3])
            except Exception as rollback_err:
                self.status = "UPDATE_ROLLBACK_FAILED"
                self.stack_status_reason = f"{reason}; rollback failed: {rollback_err}"
            else:
                self.status = "UPDATE_ROLLBACK_COMPLETE"
                self.stack_status_reason = reason
            self._add_stack_event(self.status, resource_status_reason=self.stack_status_reason)

    Stack.update = update


class _NoOutputs(dict):
    """The outputs of a stack whose creation failed: none, and no exports."""

    exports: list[Any] = []


def _create_rolls_back(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's ``CreateStack`` creates the resources in the request; when one fails, the request answers HTTP
    500 with moto's error (not a CloudFormation error shape), so the CDK CLI reports ``@aws-sdk XML parse error`` and
    never the cause. CloudFormation answers the request, then fails the stack: the created resources are deleted
    (except ``DeletionPolicy: Retain``) and the stack ends in ``ROLLBACK_COMPLETE`` with the failure as
    ``StackStatusReason``. The patch does the same (synchronously)."""
    from moto.cloudformation.models import Stack

    original = Stack.create_resources
    originals["stack_create_resources"] = original

    def create_resources(self: Any) -> None:
        try:
            original(self)
        except Exception as err:  # any resource failure: CloudFormation reports it and rolls back
            reason = failure_reason(err)
            # A failed stack has no outputs: moto resolves them lazily, creating the resources they name again.
            self.output_map = _NoOutputs()
            self.status = "ROLLBACK_IN_PROGRESS"
            self._add_stack_event("CREATE_FAILED", resource_status_reason=reason)
            self._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
            try:
                self.resource_map.delete()
            except Exception as rollback_err:
                self.status = "ROLLBACK_FAILED"
                self.stack_status_reason = f"{reason}; rollback failed: {failure_reason(rollback_err)}"
            else:
                self.status = "ROLLBACK_COMPLETE"
                self.stack_status_reason = reason
            self._add_stack_event(self.status, resource_status_reason=self.stack_status_reason)

    Stack.create_resources = create_resources


def _change_sets(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5's change-set path (``cdk deploy``'s default method) misreads the CDK's path-style ``TemplateURL``
    on the emulator's IP endpoint ("The specified bucket does not exist"), and ``ExecuteChangeSet`` leaves out the
    stack's outputs, exports and rollback. ``change_sets`` holds the corrections, each with its AWS source; it runs
    after the rollback patches above, whose ``CreateStack``/``UpdateStack`` paths it reuses."""
    change_sets.install(originals)


#: Where the routes API lives (``GetMultiRegionAccessPointRoutes`` GET, ``SubmitMultiRegionAccessPointRoutes``
#: PATCH; botocore's s3control model). ``{mrap+}`` is the MRAP ARN, whose ``/`` botocore leaves unencoded.
ROUTES_PATH = "/v20180820/mrap/instances/<path:mrap>/routes"


def _mrap_routes_api(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 has no MRAP routes API: ``GetMultiRegionAccessPointRoutes`` and
    ``SubmitMultiRegionAccessPointRoutes`` answer 404 (its URL rule for ``/mrap/instances/<name>`` stops at the
    ``/`` inside the MRAP ARN), so ``mrap routes`` / ``mrap failover`` cannot run against the emulator. The patch
    serves both, keeping the dials in ``state.routes`` (``{arn: {region: dial}}``, default 100 = active) as S3
    does: the MRAP must exist, each update names a Bucket or Region of it, a dial is 0 or 100, and at least one
    Region stays active (an all-passive result is ``InvalidRequest``). AWS applies a change within ~2 minutes; the
    data plane applies it after ``state.routes_delay`` (default 0: at once)."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.s3control import urls
    from moto.s3control.exceptions import InvalidRequestException, MultiRegionAccessPointNotFound
    from moto.s3control.responses import S3ControlResponse

    def mrap_of(response: Any) -> tuple[str, dict[str, str]]:
        """(ARN, {region: bucket}) of the MRAP the request names by ARN."""
        arn = response._get_param("Mrap")
        account = response._get_param("AccountId")
        alias = arn.rsplit("/", 1)[-1]
        points = response.backend.multi_region_access_points.get(account, {})
        point = next((p for p in points.values() if p.alias == alias), None)
        if point is None or not arn.startswith(f"arn:aws:s3::{account}:accesspoint/"):
            raise MultiRegionAccessPointNotFound(arn)
        return arn, {r["Region"]: r["Bucket"] for r in point.regions}

    def get_multi_region_access_point_routes(self: Any) -> Any:
        arn, buckets = mrap_of(self)
        dials = state.routes.get(arn, {})
        return ActionResult({"Mrap": arn, "Routes": [
            {"Bucket": bucket, "Region": region, "TrafficDialPercentage": dials.get(region, 100)}
            for region, bucket in sorted(buckets.items())]})

    def submit_multi_region_access_point_routes(self: Any) -> Any:
        arn, buckets = mrap_of(self)
        region_of = {bucket: region for region, bucket in buckets.items()}
        dials: dict[str, int] = {}
        for update in self._get_param("RouteUpdates", []):
            region = update.get("Region") or region_of.get(update.get("Bucket", ""))
            if region not in buckets or update.get("Bucket", buckets.get(region)) != buckets.get(region):
                raise InvalidRequestException(f"{update.get('Bucket') or update.get('Region')} is not a bucket or "
                                              f"Region of {arn}")
            dial = int(update["TrafficDialPercentage"])
            if dial not in (0, 100):
                raise InvalidRequestException(f"TrafficDialPercentage must be 0 or 100, got {dial}")
            dials[region] = dial
        merged = {**state.routes.get(arn, {r: 100 for r in buckets}), **dials}
        if not any(dial == 100 for dial in merged.values()):
            # botocore s3control model, MultiRegionAccessPointRoute.TrafficDialPercentage: "If all Regions in the
            # routing configuration are designated as passive, you'll receive an InvalidRequest error."
            raise InvalidRequestException(f"At least one Region must be active: this update would leave every "
                                          f"Region of {arn} passive (TrafficDialPercentage 0)")
        state.submit_routes(arn, merged)
        return EmptyResult()

    originals["routes_path_handler"] = urls.url_paths.get(ROUTES_PATH)
    originals["get_multi_region_access_point_routes"] = getattr(
        S3ControlResponse, "get_multi_region_access_point_routes", None)
    S3ControlResponse.get_multi_region_access_point_routes = get_multi_region_access_point_routes
    S3ControlResponse.submit_multi_region_access_point_routes = submit_multi_region_access_point_routes
    urls.url_paths[ROUTES_PATH] = S3ControlResponse.dispatch


def _batch_operations_jobs(state: EmulatorState, originals: dict[str, Any]) -> None:
    """moto 5.2.5 has no S3 Batch Operations: ``CreateJob``, ``DescribeJob`` and ``ListJobs`` answer 404 (no
    ``/v20180820/jobs`` route), so a backfill cannot run against the emulator. The patch serves the three for
    ``S3ReplicateObject`` jobs over a generated manifest and runs each job at once, really copying the eligible object
    versions between the emulated buckets; the model and its AWS sources are in ``testing/batch_operations.py``."""
    from moto.core.responses import ActionResult
    from moto.s3control import urls
    from moto.s3control.exceptions import InvalidRequestException
    from moto.s3control.responses import S3ControlResponse

    def create_job(self: Any) -> Any:
        account = self._get_param("AccountId")

        def client_for(service: str, region: str) -> Any:
            # The job acts in the account that created it (its buckets are there, as the job's role's are).
            return state.client(service, region, account)

        request = {name: self._get_param(name) for name in (
            "ClientRequestToken", "Description", "Operation", "Priority", "RoleArn", "Report", "ManifestGenerator")}
        if not request["RoleArn"] or not request["ClientRequestToken"]:
            raise InvalidRequestException("RoleArn and ClientRequestToken are required")
        job = batch_operations.run_job(state, client_for, account, self.region, request)
        return ActionResult({"JobId": job["JobId"]})

    def describe_job(self: Any) -> Any:
        job_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        job = state.jobs.get((self._get_param("AccountId"), self.region), {}).get(job_id)
        if job is None:
            raise InvalidRequestException(f"no job {job_id} in {self.region}")
        return ActionResult({"Job": job})

    def list_jobs(self: Any) -> Any:
        statuses = self.querystring.get("jobStatuses")
        return ActionResult({"Jobs": batch_operations.list_jobs(state, self._get_param("AccountId"), self.region,
                                                                 statuses)})

    S3ControlResponse.create_job = create_job
    S3ControlResponse.describe_job = describe_job
    S3ControlResponse.list_jobs = list_jobs
    urls.url_paths[batch_operations.JOBS_PATH] = S3ControlResponse.dispatch
    urls.url_paths[batch_operations.JOB_PATH] = S3ControlResponse.dispatch
