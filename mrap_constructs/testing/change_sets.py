"""CloudFormation change sets on the emulator: what ``cdk deploy`` does by default (``--method=change-set``).

moto 5.2.5 gets three things wrong on that path, each corrected here and paired with a test in
``tests/ops/test_change_sets.py`` that fails when a moto upgrade changes the behaviour:

1. **The template's S3 URL.** The CDK CLI uploads each template to the bootstrap staging bucket and passes
   ``TemplateURL`` = the S3 client's endpoint + ``/BUCKET/KEY``. Pointed at the emulator with ``AWS_ENDPOINT_URL``
   (``http://127.0.0.1:PORT``), that URL is path-style — S3 clients never put a bucket in front of an IP address.
   moto reads the bucket path-style only for ``localhost`` and ``s3*.amazonaws.com`` hosts, and otherwise takes the
   first label of the host: ``127``, so ``CreateChangeSet`` (and ``CreateStack``) fail with "The specified bucket
   does not exist". S3 addresses a bucket path-style (``https://s3.REGION.amazonaws.com/BUCKET/KEY``) or
   virtual-hosted (``https://BUCKET.s3.REGION.amazonaws.com/KEY``, dots allowed in BUCKET):
   https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html. ``template_location`` reads all of
   them, and an IP address or ``localhost`` host path-style. A template CloudFormation cannot read is a
   ``ValidationError`` ("S3 error: ...") of the call, as in AWS, not an S3 error shape.
2. **ExecuteChangeSet of a CREATE change set.** moto applies the resources but never builds the stack from the
   change set's template: no outputs (``DescribeStacks`` has none, ``cdk deploy`` prints none, cross-stack exports
   are missing), no ``Fn::ImportValue`` of other stacks' exports, and a failing resource answers HTTP 500 (the CLI
   reports an XML parse error) and leaves the stack half-made. CloudFormation creates the stack from the change
   set, as ``CreateStack`` does (``ChangeSetType``: "If you create a change set for a new stack, CloudFormation
   creates a stack with a unique stack ID, but no template or resources. The stack will be in the
   REVIEW_IN_PROGRESS state until you execute the change set", botocore ``cloudformation/2010-05-15``
   ``CreateChangeSetInput``). The patch runs the emulator's own ``CreateStack`` path (outputs, exports, rollback to
   ``ROLLBACK_COMPLETE`` on failure: ``moto_patches._create_rolls_back``).
3. **ExecuteChangeSet of an UPDATE change set.** Likewise moto updates the resources but not the outputs, and never
   rolls back. The patch runs the emulator's ``UpdateStack`` path (outputs, ``UPDATE_ROLLBACK_COMPLETE`` on
   failure: ``moto_patches._update_rolls_back``). ``UsePreviousValue`` of a parameter the stack took from its
   template ``Default`` (every CDK stack's ``BootstrapVersion``) resolves as in ``UpdateStack``
   (``moto_patches._update_previous_parameter_values``): the previous value, not moto's resolved SSM value.

And, per the ExecuteChangeSet API reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/
API_ExecuteChangeSet.html, botocore ``ExecuteChangeSet`` documentation): "When you execute a change set,
CloudFormation deletes all other change sets associated with the stack because they aren't valid for the updated
stack"; a change set whose ``ExecutionStatus`` is not ``AVAILABLE`` cannot be executed (``InvalidChangeSetStatus``,
HTTP 400). moto keeps the others and executes any change set, even one that ``FAILED`` for having no changes.

Installed by ``patches.installed(state)``; the replaced moto functions are kept in ``Installation.originals`` under
``get_stack_from_s3_url``, ``execute_change_set`` and ``create_change_set_response``.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import unquote, urlparse

_S3_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def template_location(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of an S3 object URL as CloudFormation reads ``TemplateURL``.

    Path-style on an S3 endpoint (``https://s3.amazonaws.com/b/k``, ``https://s3.eu-west-1.amazonaws.com/b/k``,
    ``https://s3-eu-west-1.amazonaws.com/b/k``) or on an emulator endpoint (an IP address or ``localhost``);
    virtual-hosted otherwise (``https://b.s3.eu-west-1.amazonaws.com/k``, ``https://my.bucket.s3.amazonaws.com/k``).
    Raises ``ValueError`` for a URL that names no bucket and key."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    path = unquote(parsed.path).lstrip("/")
    if _path_style(host):
        bucket, _, key = path.partition("/")
    else:
        bucket, key = _virtual_host_bucket(host), path
    if not bucket or not key:
        raise ValueError(f"TemplateURL {url!r} does not name an S3 bucket and key")
    return bucket, key


def _path_style(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if host.endswith(_S3_HOST_SUFFIXES):
        first = host.split(".", 1)[0]
        return first == "s3" or first.startswith("s3-")
    return False


def _virtual_host_bucket(host: str) -> str:
    """The bucket in front of ``.s3.`` / ``.s3-REGION.`` of an S3 host (bucket names may hold dots); the first label
    of any other host (an emulator's own virtual-hosted names: ``bucket.localhost.localstack.cloud``)."""
    labels = host.split(".")
    for index in range(1, len(labels)):
        if labels[index] == "s3" or labels[index].startswith(("s3-", "s3.")):
            return ".".join(labels[:index])
    return labels[0]


def install(originals: dict[str, Any]) -> None:
    """Install the corrections (once); keep what they replace in ``originals``."""
    _template_url(originals)
    _change_set_lookup(originals)
    _execute_change_set(originals)
    _update_change_set_parameters(originals)


def _template_url(originals: dict[str, Any]) -> None:
    from moto.cloudformation import models, responses
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.exceptions import ServiceException

    original = responses.get_stack_from_s3_url
    originals["get_stack_from_s3_url"] = original

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        from moto.s3.models import s3_backends

        try:
            bucket, key = template_location(template_url)
        except ValueError as err:
            raise ValidationError(message=str(err)) from None
        try:
            obj = s3_backends[account_id][partition].get_object(bucket, key)
        except ServiceException as err:  # NoSuchBucket, NoSuchKey: CloudFormation's ValidationError names them
            raise ValidationError(message=f"S3 error: {getattr(err, 'message', err)}") from None
        if obj is None:
            raise ValidationError(message="S3 error: The specified key does not exist.")
        return obj.value.decode("utf-8")

    responses.get_stack_from_s3_url = get_stack_from_s3_url
    models.get_stack_from_s3_url = get_stack_from_s3_url  # AWS::CloudFormation::Stack (nested stacks)


def _error(code: str, message: str) -> Exception:
    """A CloudFormation error moto serializes with ``code`` (its HTTP status from botocore's model)."""
    from moto.cloudformation.exceptions import CloudFormationError

    return type(code, (CloudFormationError,), {"code": code})(message)


def find_change_set(backend: Any, name_or_arn: str, stack_name: str | None) -> Any:
    """The change set an API call names: by ARN, or by name *within the stack* ``stack_name`` (name or id). A change
    set name is unique only per stack ("The name must be unique among all change sets that are associated with the
    specified stack", ``CreateChangeSetInput.ChangeSetName``), and ``cdk deploy`` names every stack's change set
    ``cdk-deploy-change-set``; moto matches the name in the whole Region, so one stack's deploy describes, deletes
    or executes another stack's change set. ``None`` when there is none."""
    if name_or_arn in backend.change_sets:
        return backend.change_sets[name_or_arn]
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == name_or_arn and (
                stack_name is None or stack_name in (change_set.stack_name, change_set.stack_id)):
            return change_set
    return None


def _not_found(name: str) -> Exception:
    # botocore: ChangeSetNotFoundException, code ChangeSetNotFound, HTTP 404 (DescribeChangeSet, ExecuteChangeSet).
    return _error("ChangeSetNotFound", f"ChangeSet [{name}] does not exist")


def _change_set_lookup(originals: dict[str, Any]) -> None:
    """Describe/Delete/Create resolve a change set name within its stack (``find_change_set``). DescribeChangeSet of
    a missing one is ``ChangeSetNotFound`` (HTTP 404), which ``cdk deploy`` waits for after deleting its previous
    change set (moto: ``ValidationError`` "Stack with id ... does not exist", and the CLI stops). DeleteChangeSet of
    a missing one succeeds (its only modelled error is ``InvalidChangeSetStatus``; moto: HTTP 500). CreateChangeSet
    of a name the stack already has is ``AlreadyExistsException`` (moto: a second change set of that name)."""
    from moto.cloudformation.models import CloudFormationBackend
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult, EmptyResult

    originals["describe_change_set"] = CloudFormationBackend.describe_change_set
    originals["delete_change_set"] = CloudFormationBackend.delete_change_set
    originals["create_change_set"] = CloudFormationBackend.create_change_set

    def describe_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> Any:
        change_set = find_change_set(self, change_set_name, stack_name)
        if change_set is None:
            raise _not_found(change_set_name)
        return change_set

    def delete_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = find_change_set(self, change_set_name, stack_name)
        if change_set is not None:
            del self.change_sets[change_set.change_set_id]

    original_create = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, stack_name: str, change_set_name: str, *args: Any, **kwargs: Any) -> Any:
        if find_change_set(self, change_set_name, stack_name) is not None:
            raise _error("AlreadyExistsException", f"ChangeSet [{change_set_name}] already exists")
        return original_create(self, stack_name, change_set_name, *args, **kwargs)

    CloudFormationBackend.describe_change_set = describe_change_set
    CloudFormationBackend.delete_change_set = delete_change_set
    CloudFormationBackend.create_change_set = create_change_set

    def describe_change_set_response(self: Any) -> Any:
        return ActionResult(self.cloudformation_backend.describe_change_set(
            self._get_param("ChangeSetName"), self._get_param("StackName")))

    def delete_change_set_response(self: Any) -> Any:
        self.cloudformation_backend.delete_change_set(self._get_param("ChangeSetName"), self._get_param("StackName"))
        return EmptyResult()

    CloudFormationResponse.describe_change_set = describe_change_set_response
    CloudFormationResponse.delete_change_set = delete_change_set_response


def _execute_change_set(originals: dict[str, Any]) -> None:
    from moto.cloudformation.models import CloudFormationBackend

    originals["execute_change_set"] = CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = find_change_set(self, change_set_name, stack_name)
        if change_set is None:
            raise _not_found(change_set_name)
        if change_set.execution_status != "AVAILABLE":
            raise _error("InvalidChangeSetStatus", f"ChangeSet [{change_set.change_set_id}] cannot be executed in "
                                                   f"its current execution status of [{change_set.execution_status}]")
        stack = self.stacks[change_set.stack_id]
        # Every other change set of the stack is deleted: none is valid for the changed stack.
        for other in [cid for cid, cs in self.change_sets.items() if cs.stack_id == stack.stack_id
                      and cs is not change_set]:
            del self.change_sets[other]
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        if change_set.change_set_type == "CREATE":
            _create_from_change_set(self, stack, change_set)
            failed = stack.status != "CREATE_COMPLETE"
        else:
            stack.update(change_set.template, change_set.role_arn, parameters=change_set.parameters,
                         tags=change_set.tags)
            failed = stack.status != "UPDATE_COMPLETE"
        change_set.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"

    CloudFormationBackend.execute_change_set = execute_change_set


def _create_from_change_set(backend: Any, stack: Any, change_set: Any) -> None:
    """What ``CloudFormationBackend.create_stack`` does, on the stack ``CreateChangeSet`` left in
    ``REVIEW_IN_PROGRESS`` (same stack id)."""
    stack.template = change_set.template
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.parameters = change_set.parameters
    stack.cross_stack_resources = backend.exports
    stack.resource_map = stack._create_resource_map()
    stack.output_map = stack._create_output_map()
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    stack.create_resources()


def _update_change_set_parameters(originals: dict[str, Any]) -> None:
    """moto's ``CreateChangeSet`` (UPDATE) resolves ``UsePreviousValue`` from ``Stack.stack_parameters``: for an
    SSM-typed parameter that is the SSM *value*, which the update then looks up as a parameter *name* (and fails).
    The backend's ``_resolve_update_parameters`` (as corrected for ``UpdateStack``) gives CloudFormation's previous
    value; the patch passes the request's parameter list through it."""
    from moto.cloudformation.responses import CloudFormationResponse

    original = CloudFormationResponse.create_change_set
    originals["create_change_set_response"] = original

    def create_change_set(self: Any) -> Any:
        if self._get_param("ChangeSetType", "CREATE") == "UPDATE":
            incoming = self._get_param("Parameters", [])
            if any(p.get("UsePreviousValue", False) for p in incoming):
                stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
                resolved = self.cloudformation_backend._resolve_update_parameters(stack, incoming)
                params = self._get_param("Parameters")
                params[:] = [{"ParameterKey": key, "ParameterValue": value} for key, value in resolved.items()]
        return original(self)

    CloudFormationResponse.create_change_set = create_change_set
