"""CloudFormation resource models moto 5.2.5 lacks (or half-implements), backed by moto's own backends, and a
custom-resource runner that executes the project's handlers in-process.

Installed by ``patches.installed(state)``, bound to that state (``bind``). Each model is small and only does
what the real resource does to the state the tests inspect: no validation beyond moto's own.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
from botocore import xform_name

from mrap_constructs.testing.clients import ACCOUNT_HEADER, _with_account_header, emulator_client  # noqa: F401
from mrap_constructs.testing.state import EmulatorState

logger = logging.getLogger("mrap.emulator")

class SkippedTypeCollector(logging.Handler):
    """Collects moto's "No Moto CloudFormation support for X" warnings into ``state.skipped_types``."""

    def __init__(self, state: EmulatorState) -> None:
        super().__init__()
        self.state = state

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("No Moto CloudFormation support for "):
            self.state.skipped_types.add(message.rsplit(" ", 1)[-1])


def _s3control(account_id: str) -> Any:
    from moto.s3control.models import s3control_backends

    return s3control_backends[account_id]["aws"]


def _s3(account_id: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


class _Model:
    """What moto's CloudFormation expects of every resource model. ``state`` is the emulator state the model acts
    on: ``bind(state)`` makes the subclasses moto's CloudFormation is given (a model is never used unbound)."""

    state: EmulatorState

    def is_created(self) -> bool:
        return True


class MultiRegionAccessPointModel(_Model):
    """``AWS::S3::MultiRegionAccessPoint``: Ref = name; attributes Alias, CreatedAt."""

    def __init__(self, account_id: str, name: str, properties: dict | None = None) -> None:
        self.account_id = account_id
        self.name = name
        self.properties = properties or {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> MultiRegionAccessPointModel:
        props = cloudformation_json["Properties"]
        _s3control(account_id).create_multi_region_access_point(
            account_id, props["Name"], props.get("PublicAccessBlockConfiguration", {}),
            [{"Bucket": r["Bucket"]} for r in props["Regions"]], region_name)
        return cls(account_id, props["Name"], json.loads(json.dumps(props)))

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Alias", "CreatedAt")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        mrap = _s3control(self.account_id).multi_region_access_points[self.account_id][self.name]
        return mrap.alias if attribute_name == "Alias" else mrap.to_dict()["CreatedAt"]

    def delete(self, account_id: str, region_name: str) -> None:
        _s3control(account_id).delete_multi_region_access_point(account_id, self.name, region_name)

    @staticmethod
    def update_from_cloudformation_json(original_resource: MultiRegionAccessPointModel, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str,
                                        region_name: str) -> MultiRegionAccessPointModel:
        """Every property of ``AWS::S3::MultiRegionAccessPoint`` (``Name``, ``Regions``,
        ``PublicAccessBlockConfiguration``) "Update requires: Replacement"
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-multiregionaccesspoint.html).
        Under the same ``Name`` CloudFormation cannot replace it: a custom-named resource is replaced by creating the
        new one first, and the name is taken ("CloudFormation cannot update a stack when a custom-named resource
        requires replacing. Rename ... and update the stack again.",
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name-type.html), so
        the update fails and rolls back. Under a new name the new MRAP is created, and the old one is deleted in the
        cleanup phase unless its ``UpdateReplacePolicy`` is ``Retain`` (then it stays, serving its buckets)."""
        name = cloudformation_json["Properties"]["Name"]
        if cloudformation_json["Properties"] == original_resource.properties:
            return original_resource  # nothing changed (a rollback to what is deployed)
        if name == original_resource.name:
            raise ValueError(f"CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                             f"Rename {name} and update the stack again.")
        replacement = type(original_resource).create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)
        if cloudformation_json.get("UpdateReplacePolicy") != "Retain":
            original_resource.state.defer_cleanup(f"MRAP {original_resource.name} (replaced)",
                                                  lambda: original_resource.delete(account_id, region_name))
        return replacement


class MultiRegionAccessPointPolicyModel(_Model):
    """``AWS::S3::MultiRegionAccessPointPolicy``: puts the policy; attribute PolicyStatus.IsPublic."""

    def __init__(self, account_id: str, name: str) -> None:
        self.account_id = account_id
        self.name = name

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> MultiRegionAccessPointPolicyModel:
        props = cloudformation_json["Properties"]
        policy = props["Policy"] if isinstance(props["Policy"], str) else json.dumps(props["Policy"])
        _s3control(account_id).put_multi_region_access_point_policy(account_id, props["MrapName"], policy,
                                                                    region_name)
        return cls(account_id, props["MrapName"])

    update_from_cloudformation_json = None  # set below (needs the class)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "PolicyStatus.IsPublic"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return "false"

    def delete(self, account_id: str, region_name: str) -> None:
        """An MRAP policy cannot be deleted: CloudFormation "updates the policy to only allow access to the account that
        created the bucket" (AWS::S3::MultiRegionAccessPointPolicy reference,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-multiregionaccesspointpolicy.html).
        AWS does not publish that document; the model puts ``owner_only_policy`` (the owner account, every S3
        action), so whatever the removed policy restricted (``aws:SourceVpce``...) is gone, as in AWS."""
        backend = _s3control(account_id)
        mrap = backend.multi_region_access_points.get(account_id, {}).get(self.name)
        if mrap is not None:
            backend.put_multi_region_access_point_policy(account_id, self.name,
                                                         json.dumps(owner_only_policy(account_id, mrap.alias)),
                                                         region_name)


def owner_only_policy(account_id: str, alias: str) -> dict[str, Any]:
    """What an MRAP policy is reset to when its CloudFormation resource is deleted (see
    ``MultiRegionAccessPointPolicyModel.delete``)."""
    arn = f"arn:aws:s3::{account_id}:accesspoint/{alias}"
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "s3:*",
        "Resource": [arn, f"{arn}/object/*"]}]}


class BucketPolicyModel(_Model):
    """``AWS::S3::BucketPolicy``: stores the policy on moto's bucket."""

    def __init__(self, account_id: str, bucket: str) -> None:
        self.account_id = account_id
        self.bucket = bucket

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> BucketPolicyModel:
        props = cloudformation_json["Properties"]
        _s3(account_id).put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        return cls(account_id, props["Bucket"])

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _s3(account_id)
        if self.bucket in backend.buckets:
            backend.delete_bucket_policy(self.bucket)

    @staticmethod
    def update_from_cloudformation_json(original_resource: BucketPolicyModel, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str,
                                        region_name: str) -> BucketPolicyModel:
        """``PolicyDocument`` updates in place; ``Bucket`` "Update requires: Replacement": the policy is put on the
        new bucket and, in the cleanup phase, deleted from the old one (``DeleteBucketPolicy``)
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucketpolicy.html)."""
        updated = type(original_resource).create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                                          account_id, region_name)
        if updated.bucket != original_resource.bucket:
            original_resource.state.defer_cleanup(f"bucket policy of {original_resource.bucket} (replaced)",
                                                  lambda: original_resource.delete(account_id, region_name))
        return updated


class AlarmModel(_Model):
    """``AWS::CloudWatch::Alarm``: a metric alarm in moto's CloudWatch (moto's ``Alarm`` has no CloudFormation model,
    so moto skips the type). Ref = name; attribute Arn. An update keeps the name (no replacement, as in AWS)."""

    def __init__(self, account_id: str, region_name: str, name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.name = name

    @staticmethod
    def _put(name: str, props: dict, account_id: str, region_name: str) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"], evaluation_periods=int(props["EvaluationPeriods"]),
            period=int(props["Period"]) if "Period" in props else None,
            threshold=float(props["Threshold"]) if "Threshold" in props else None,
            statistic=props.get("Statistic"), description=props.get("AlarmDescription"),
            dimensions=props.get("Dimensions", []), alarm_actions=props.get("AlarmActions", []),
            ok_actions=props.get("OKActions"), insufficient_data_actions=props.get("InsufficientDataActions"),
            datapoints_to_alarm=props.get("DatapointsToAlarm"), extended_statistic=props.get("ExtendedStatistic"),
            unit=props.get("Unit"), actions_enabled=props.get("ActionsEnabled", True),
            treat_missing_data=props.get("TreatMissingData"))

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> AlarmModel:
        props = cloudformation_json.get("Properties", {})
        name = props.get("AlarmName") or resource_name
        cls._put(name, props, account_id, region_name)
        return cls(account_id, region_name, name)

    @staticmethod
    def update_from_cloudformation_json(original_resource: AlarmModel, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str, region_name: str) -> AlarmModel:
        props = cloudformation_json.get("Properties", {})
        name = props.get("AlarmName") or original_resource.name
        if name != original_resource.name:
            original_resource.delete(account_id, region_name)
        AlarmModel._put(name, props, account_id, region_name)
        return AlarmModel(account_id, region_name, name)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return f"arn:aws:cloudwatch:{self.region_name}:{self.account_id}:alarm:{self.name}"

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


def _flag(value: Any, default: bool = False) -> bool:
    """A CloudFormation boolean (templates carry ``true`` or ``"true"``)."""
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).lower() == "true"


class TrailModel(_Model):
    """``AWS::CloudTrail::Trail``: a trail in moto's CloudTrail (moto 5.2.5 has no model and skips the type), created
    through ``CloudTrailBackend.create_trail`` so the strict key-policy rule applies (``strict/cloudtrail_kms.py``).
    Ref = name; attributes Arn, SnsTopicArn. ``TrailName`` is create-only (a new name replaces the trail); the rest
    updates in place (``UpdateTrail``, ``PutEventSelectors``, ``StartLogging``/``StopLogging``), as CloudFormation
    does. https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudtrail-trail.html"""

    def __init__(self, account_id: str, region_name: str, name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.name = name

    @staticmethod
    def _backend(account_id: str, region_name: str) -> Any:
        from moto.cloudtrail.models import cloudtrail_backends

        return cloudtrail_backends[account_id][region_name]

    @staticmethod
    def _settings(props: dict) -> dict[str, Any]:
        return {"s3_key_prefix": props.get("S3KeyPrefix"), "sns_topic_name": props.get("SnsTopicName"),
                "cw_log_group_arn": props.get("CloudWatchLogsLogGroupArn"),
                "cw_role_arn": props.get("CloudWatchLogsRoleArn"), "kms_key_id": props.get("KMSKeyId")}

    @classmethod
    def _configure(cls, backend: Any, name: str, props: dict) -> None:
        if props.get("EventSelectors") or props.get("AdvancedEventSelectors"):
            backend.put_event_selectors(name, props.get("EventSelectors") or [],
                                        props.get("AdvancedEventSelectors") or [])
        if _flag(props.get("IsLogging")):
            backend.start_logging(name)
        else:
            backend.stop_logging(name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> TrailModel:
        props = cloudformation_json.get("Properties", {})
        name = props.get("TrailName") or resource_name
        backend = cls._backend(account_id, region_name)
        settings = cls._settings(props)
        backend.create_trail(
            name, props["S3BucketName"], settings["s3_key_prefix"], settings["sns_topic_name"],
            _flag(props.get("IncludeGlobalServiceEvents"), True), _flag(props.get("IsMultiRegionTrail")),
            _flag(props.get("EnableLogFileValidation")), _flag(props.get("IsOrganizationTrail")),
            settings["cw_log_group_arn"], settings["cw_role_arn"], settings["kms_key_id"], props.get("Tags", []))
        cls._configure(backend, name, props)
        return cls(account_id, region_name, name)

    @staticmethod
    def update_from_cloudformation_json(original_resource: TrailModel, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str, region_name: str) -> TrailModel:
        props = cloudformation_json.get("Properties", {})
        name = props.get("TrailName") or original_resource.name
        if name != original_resource.name:  # create-only: replacement (the new trail first, then the old one goes)
            replacement = TrailModel.create_from_cloudformation_json(name, cloudformation_json, account_id,
                                                                      region_name)
            original_resource.delete(account_id, region_name)
            return replacement
        backend = TrailModel._backend(account_id, region_name)
        settings = TrailModel._settings(props)
        backend.update_trail(
            name=name, s3_bucket_name=props["S3BucketName"],
            include_global_service_events=_flag(props.get("IncludeGlobalServiceEvents"), True),
            is_multi_region_trail=_flag(props.get("IsMultiRegionTrail")),
            enable_log_file_validation=_flag(props.get("EnableLogFileValidation")),
            is_organization_trail=_flag(props.get("IsOrganizationTrail")), **settings)
        TrailModel._configure(backend, name, props)
        return TrailModel(account_id, region_name, name)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "SnsTopicArn")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        trail = self._backend(self.account_id, self.region_name).get_trail(self.name)
        return trail.arn if attribute_name == "Arn" else trail.topic_arn

    def delete(self, account_id: str, region_name: str) -> None:
        self._backend(account_id, region_name).delete_trail(self.name)


class TopicPolicyModel(_Model):
    """``AWS::SNS::TopicPolicy``: sets each topic's ``Policy`` attribute through ``SNSBackend.set_topic_attribute``
    (moto 5.2.5 has no model and skips the type), so the strict principal rule applies
    (``strict/policy_principals.py``). On delete, and for a topic an update drops, the topic gets its default
    policy back, as CloudFormation does. Ref = a generated id.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sns-topicpolicy.html"""

    def __init__(self, account_id: str, region_name: str, physical_id: str, topics: list[str]) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.physical_id = physical_id
        self.topics = topics

    @staticmethod
    def _backend(topic_arn: str) -> Any:
        from moto.sns.models import sns_backends

        _, _, _, region, account, _ = topic_arn.split(":", 5)
        return sns_backends[account][region]

    @classmethod
    def _apply(cls, props: dict) -> list[str]:
        document = props["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        topics = [str(t) for t in props.get("Topics", [])]
        for topic in topics:
            cls._backend(topic).set_topic_attribute(topic, "policy", policy)
        return topics

    @classmethod
    def _reset(cls, topics: list[str]) -> None:
        for topic in topics:
            backend = cls._backend(topic)
            found = backend.topics.get(topic)
            if found is not None:  # a topic deleted in the same stack operation has no policy to reset
                found._policy_json = found._create_default_topic_policy(backend.region_name, found.account_id,
                                                                      found.name)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> TopicPolicyModel:
        topics = cls._apply(cloudformation_json["Properties"])
        return cls(account_id, region_name, resource_name, topics)

    @staticmethod
    def update_from_cloudformation_json(original_resource: TopicPolicyModel, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str,
                                        region_name: str) -> TopicPolicyModel:
        topics = TopicPolicyModel._apply(cloudformation_json["Properties"])
        TopicPolicyModel._reset([t for t in original_resource.topics if t not in topics])
        return TopicPolicyModel(account_id, region_name, original_resource.physical_id, topics)

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.physical_resource_id

    def delete(self, account_id: str, region_name: str) -> None:
        self._reset(self.topics)


def _update_mrap_policy(original_resource: MultiRegionAccessPointPolicyModel, new_resource_name: str,
                        cloudformation_json: dict, account_id: str,
                        region_name: str) -> MultiRegionAccessPointPolicyModel:
    """``Policy`` updates in place; ``MrapName`` "Update requires: Replacement": the policy goes on the new MRAP and the
    old resource is deleted in the cleanup (its MRAP's policy reset, ``delete``) unless ``UpdateReplacePolicy`` is
    ``Retain``."""
    updated = type(original_resource).create_from_cloudformation_json(
        new_resource_name, cloudformation_json, account_id, region_name)
    if updated.name != original_resource.name and cloudformation_json.get("UpdateReplacePolicy") != "Retain":
        original_resource.state.defer_cleanup(f"policy of MRAP {original_resource.name} (replaced)",
                                              lambda: original_resource.delete(account_id, region_name))
    return updated


MultiRegionAccessPointPolicyModel.update_from_cloudformation_json = staticmethod(  # type: ignore[assignment]
    _update_mrap_policy)

MODELS: dict[str, type] = {
    "AWS::S3::MultiRegionAccessPoint": MultiRegionAccessPointModel,
    "AWS::S3::MultiRegionAccessPointPolicy": MultiRegionAccessPointPolicyModel,
    "AWS::S3::BucketPolicy": BucketPolicyModel,
    "AWS::CloudWatch::Alarm": AlarmModel,
    "AWS::CloudTrail::Trail": TrailModel,
    "AWS::SNS::TopicPolicy": TopicPolicyModel,
}


# --- custom resources --------------------------------------------------------------------------------------------


def run_sdk_call(state: EmulatorState, call_json: str | dict | None, region: str,
                 account: str | None = None) -> dict[str, Any]:
    """Run an ``AwsCustomResource`` call (``{"service", "action", "parameters", "outputPaths"...}``) with boto3, in
    ``account`` (the custom resource's stack's account, as its Lambda role would)."""
    if not call_json:
        return {}
    call = json.loads(call_json) if isinstance(call_json, str) else call_json
    service = {"S3Control": "s3control", "CloudWatchLogs": "logs"}.get(call["service"], call["service"].lower())
    client = state.client(service, call.get("region") or region, account)
    response = getattr(client, xform_name(call["action"]))(**call.get("parameters", {}))
    data: dict[str, Any] = {}
    for path in call.get("outputPaths", []):
        value: Any = response
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value.get(part)
        data[path] = value
    return data


def _routes_client(state: EmulatorState, account_id: str) -> Any:
    """An ``MrapClient`` on the emulator, whose server answers the routes API (``moto_patches._mrap_routes_api``)."""
    from mrap_constructs.ops.client import MrapClient

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    session.events.register("before-sign", _with_account_header(account_id))
    return MrapClient(account_id, session=session, endpoint_url=state.endpoint_url, sleep=lambda _: None)


def handle_custom_resource(state: EmulatorState, resource_type: str, request_type: str, properties: dict,
                           logical_id: str, account_id: str, region_name: str, physical_id: str | None,
                           old_properties: dict | None = None) -> tuple[str, dict]:
    """Do what the real handler of ``resource_type`` does; returns (physical id, attributes).

    ``old_properties`` is the request's ``OldResourceProperties`` (Update requests only)."""
    state.custom_resource_log.append((resource_type, request_type, logical_id))
    if "Create" in properties or "Update" in properties or "Delete" in properties:  # AwsCustomResource
        # aws-cdk-lib's handler makes the call of the request type only (``ResourceProperties[RequestType]``): an
        # Update with no update call makes none and keeps the physical id (aws-custom-resource-handler/index.js).
        call_json = properties.get(request_type)
        data = run_sdk_call(state, call_json, region_name, account_id)
        call = json.loads(call_json) if isinstance(call_json, str) else (call_json or {})
        physical = (call.get("physicalResourceId") or {}).get("id") or physical_id or logical_id
        return physical, data
    if resource_type == "Custom::MrapRoutes":
        from mrap_constructs.handlers.routes import on_event

        event = {"RequestType": request_type, "ResourceProperties": properties, "PhysicalResourceId": physical_id}
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        result = on_event(event, None,
                          client_factory=lambda account, routes_region=None: _routes_client(state, account))
        return result["PhysicalResourceId"], result.get("Data", {})
    if resource_type == "Custom::S3AutoDeleteObjects":
        return _auto_delete_objects(state, request_type, properties, old_properties, physical_id, region_name,
                                    account_id), {}
    logger.warning("custom resource %s (%s) has no emulated handler; answered SUCCESS", resource_type, logical_id)
    return physical_id or logical_id, {}


#: The tag aws-cdk-lib puts on a bucket whose objects its handler may delete (``autoDeleteObjects: true``).
AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"


def _auto_delete_objects(state: EmulatorState, request_type: str, properties: dict, old_properties: dict | None,
                         physical_id: str | None, region: str, account: str) -> str:
    """aws-cdk-lib 2.275.0's ``Custom::S3AutoDeleteObjects`` handler (custom-resource-handlers/dist/aws-s3/
    auto-delete-objects-handler/index.js): Create returns no physical id, so the provider framework answers the
    request id; Update answers the *new* ``BucketName`` as the physical id — a renamed bucket (or the first update
    after the create) changes it, so CloudFormation's cleanup sends a Delete with the old id and the *old*
    properties; Delete of a bucket tagged ``aws-cdk:auto-delete-objects=true`` adds a statement denying
    ``s3:PutObject`` to its policy, then deletes every object version and delete marker (a missing bucket is fine).
    Returns the physical id."""
    if request_type == "Create":
        import uuid

        return str(uuid.uuid4())  # the framework's fallback: the request id
    if request_type == "Update":
        return properties.get("BucketName") or (old_properties or {}).get("BucketName") or physical_id or ""
    bucket = properties["BucketName"]
    s3 = state.client("s3", region, account)
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except s3.exceptions.NoSuchBucket:
        return physical_id or ""
    except s3.exceptions.ClientError:
        tags = []  # NoSuchTagSet: not ours to empty
    if not any(t["Key"] == AUTO_DELETE_TAG and t["Value"] == "true" for t in tags):
        return physical_id or ""
    _deny_new_objects(s3, bucket)
    _empty_bucket(state, bucket, region, account)
    return physical_id or ""


def _deny_new_objects(s3: Any, bucket: str) -> None:
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError:
        policy = {"Version": "2012-10-17", "Statement": []}
    policy["Statement"].append({"Principal": "*", "Effect": "Deny", "Action": ["s3:PutObject"],
                                "Resource": [f"arn:aws:s3:::{bucket}/*"]})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _empty_bucket(state: EmulatorState, bucket: str, region: str, account: str) -> None:
    s3 = state.client("s3", region, account)
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    except s3.exceptions.NoSuchBucket:
        pass  # already gone (moto deletes a stack's resources in no particular order)


class EmulatedCustomResource(_Model):
    """A ``Custom::*`` resource answered in-process by ``handle_custom_resource`` (moto would invoke a Lambda
    function, which needs Docker, and wait for its response forever)."""

    def __init__(self, resource_type: str, logical_id: str, physical_id: str, properties: dict, data: dict) -> None:
        self.resource_type = resource_type
        self.logical_id = logical_id
        self._physical_id = physical_id
        self.properties = properties
        self.data = data

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> EmulatedCustomResource:
        props = dict(cloudformation_json["Properties"])
        physical, data = handle_custom_resource(cls.state, kwargs["ResourceType"], "Create", props, kwargs["LogicalId"],
                                                account_id, region_name, None)
        return cls(kwargs["ResourceType"], kwargs["LogicalId"], physical, props, data)

    @staticmethod
    def update_from_cloudformation_json(original_resource: EmulatedCustomResource, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str,
                                        region_name: str) -> EmulatedCustomResource:
        """An Update request with ``OldResourceProperties``; a handler that returns a new physical id has replaced
        the resource, so the old one gets a Delete request (with the old physical id and properties) in the cleanup
        phase of the update (``EmulatorState.defer_cleanup``), as CloudFormation does: "If you change the physical
        ID, CloudFormation ... sends a delete request for the old resource"
        (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html)."""
        props = dict(cloudformation_json["Properties"])
        old = original_resource
        state = old.state
        physical, data = handle_custom_resource(state, old.resource_type, "Update", props, old.logical_id, account_id,
                                                region_name, old.physical_resource_id, old_properties=old.properties)
        if physical != old.physical_resource_id:
            state.defer_cleanup(f"{old.logical_id} ({old.physical_resource_id}, old physical id)",
                                lambda: handle_custom_resource(state, old.resource_type, "Delete", old.properties,
                                                               old.logical_id, account_id, region_name,
                                                               old.physical_resource_id))
        return type(old)(old.resource_type, old.logical_id, physical, props, data)

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.data.get(attribute_name)

    def delete(self, account_id: str, region_name: str) -> None:
        handle_custom_resource(self.state, self.resource_type, "Delete", self.properties, self.logical_id, account_id,
                               region_name, self.physical_resource_id)


def bind(state: EmulatorState) -> tuple[dict[str, type], type]:
    """The models moto's CloudFormation is given while ``state``'s patches are installed: ``MODELS`` and
    ``EmulatedCustomResource``, each as a subclass acting on ``state``."""

    def bound(model: type) -> type:
        return type(model.__name__, (model,), {"state": state, "__module__": model.__module__})

    return {kind: bound(model) for kind, model in MODELS.items()}, bound(EmulatedCustomResource)
