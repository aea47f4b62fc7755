"""CloudWatch alarm actions that notify an SNS topic encrypted with a key CloudWatch cannot use.

AWS accepts both the alarm (PutMetricAlarm) and the encrypted topic, but when the alarm changes state CloudWatch
must call ``kms:GenerateDataKey*`` and ``kms:Decrypt`` on the topic's key as the service principal
``cloudwatch.amazonaws.com``. The AWS managed key ``alias/aws/sns`` admits no service principal, and neither does a
customer managed key whose policy lacks such a statement: the notification is silently dropped, and the only trace
is an alarm-history item of type ``Action`` ("Failed to execute action ..."). Modelled here: on a state change
(``SetAlarmState``, as CloudWatch's own evaluation would do) each SNS action is either published to its topic (so
tests can see delivery: ``Topic.sent_notifications``) or recorded as failed in the alarm history, which the added
``DescribeAlarmHistory`` returns.

AWS sources:
- https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (section "Enable compatibility between event
  sources from AWS services and encrypted topics": use a customer managed key whose policy allows the service
  ``kms:GenerateDataKey*`` and ``kms:Decrypt``; the AWS managed key for SNS cannot be used)
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html (the state change runs
  the alarm's actions)
- botocore/data/cloudwatch/2010-08-01/service-2.json shape ``AlarmHistoryItem`` (``HistoryItemType`` ``Action``)

moto 5.2.5's ``set_alarm_state`` only changes the state (appending the previous state to ``Alarm.history``): it runs
no action at all, and it has no ``DescribeAlarmHistory``.
"""

from __future__ import annotations

import json
from typing import Any

from mrap_constructs.testing.strict._lookup import admits_service, find_key, load_document

SERVICE = "cloudwatch.amazonaws.com"
ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
AWS_MANAGED_SNS_ALIAS = "alias/aws/sns"


def delivery_problem(topic: Any) -> str | None:
    """Why CloudWatch cannot publish to ``topic`` (None: it can)."""
    key_id = topic.kms_master_key_id
    if not key_id:
        return None
    if key_id == AWS_MANAGED_SNS_ALIAS or key_id.endswith(f":{AWS_MANAGED_SNS_ALIAS}"):
        return (f"CloudWatch Alarms does not have authorization to access the SNS topic encryption key "
                f"{key_id}: the AWS managed key for SNS admits no service principal")
    region = topic.arn.split(":")[3]
    key = find_key(key_id, topic.account_id, region)
    if key is None:
        return f"The SNS topic encryption key {key_id} does not exist (KMS NotFoundException)"
    if key.key_manager == "AWS" or not admits_service(load_document(key.policy), SERVICE, ACTIONS):
        return (f"CloudWatch Alarms does not have authorization to access the SNS topic encryption key {key.arn} "
                f"(KMS AccessDeniedException: {SERVICE} needs kms:GenerateDataKey* and kms:Decrypt)")
    return None


def run_actions(alarm: Any, old_state: str) -> None:
    """Run the alarm's SNS actions for its new state, as CloudWatch does after a state change."""
    from moto.core.utils import utcnow
    from moto.sns.models import sns_backends

    if not alarm.actions_enabled or alarm.state_value == old_state:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[alarm.state_value] or []
    account = alarm.alarm_arn.split(":")[4]
    for action in actions:
        if not action.startswith("arn:aws:sns:"):
            continue  # Auto Scaling / EC2 / Systems Manager actions are not modelled
        _, _, _, topic_region, topic_account, _ = action.split(":", 5)
        topic = sns_backends[topic_account][topic_region].topics.get(action)
        problem = "The SNS topic does not exist" if topic is None else delivery_problem(topic)
        now = utcnow()
        if problem is None:
            message = {"AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": account,
                       "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
                       "StateChangeTime": now.isoformat(), "Region": alarm.region_name,
                       "AlarmArn": alarm.alarm_arn, "OldStateValue": old_state}
            subject = f'{alarm.state_value}: "{alarm.name}" in {alarm.region_name}'[:100]
            sns_backends[topic_account][topic_region].publish(json.dumps(message), arn=action, subject=subject)
            summary, data = f"Successfully executed action {action}", {"actionState": "Succeeded"}
        else:
            summary, data = f"Failed to execute action {action}", {"actionState": "Failed", "error": problem}
        data.update(notificationResource=action, stateUpdateTimestamp=int(now.timestamp() * 1000))
        alarm.history.append(("Action", summary, json.dumps(data), alarm.state_value, now))


def describe_alarm_history(self: Any) -> Any:
    """``DescribeAlarmHistory`` over ``Alarm.history`` (moto's StateUpdate tuples and the Action items above),
    newest first; filters AlarmName and HistoryItemType."""
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    items = []
    for alarm in self.cloudwatch_backend.alarms.values():
        if name and alarm.name != name:
            continue
        for kind, summary, data, _state, timestamp in alarm.history:
            if item_type and kind != item_type:
                continue
            items.append({"AlarmName": alarm.name, "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
                          "Timestamp": timestamp, "HistoryItemType": kind, "HistorySummary": summary,
                          "HistoryData": data})
    items.sort(key=lambda item: item["Timestamp"], reverse=True)
    return ActionResult({"AlarmHistoryItems": items})


def install(originals: dict[str, Any]) -> None:
    """Wrap ``CloudWatchBackend.set_alarm_state`` and add ``CloudWatchResponse.describe_alarm_history``
    (originals: ``originals["cloudwatch_set_alarm_state"]``; ``["cloudwatch_describe_alarm_history"]`` is None,
    moto has none)."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    original = CloudWatchBackend.set_alarm_state
    originals["cloudwatch_set_alarm_state"] = original
    originals["cloudwatch_describe_alarm_history"] = getattr(CloudWatchResponse, "describe_alarm_history", None)

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        alarm = self.alarms.get(alarm_name)
        old_state = alarm.state_value if alarm is not None else None
        original(self, alarm_name, reason, reason_data, state_value)
        run_actions(self.alarms[alarm_name], old_state)

    CloudWatchBackend.set_alarm_state = set_alarm_state
    CloudWatchResponse.describe_alarm_history = describe_alarm_history
