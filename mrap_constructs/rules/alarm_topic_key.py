"""An alarm's SNS topic must be under a key CloudWatch may use.

CloudWatch cannot publish to a topic encrypted with the AWS managed key ``alias/aws/sns`` (its policy cannot be
changed); a customer managed key must allow ``cloudwatch.amazonaws.com`` ``kms:GenerateDataKey*`` and
``kms:Decrypt``. Otherwise every notification is dropped, silently:
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, flat, missing_service_actions, referenced_id

NAME = "AlarmTopicKeyDeniesCloudWatch"
SOURCE = "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"
FIX = ("encrypt the topic with a customer managed key whose policy allows cloudwatch.amazonaws.com "
       "kms:GenerateDataKey* and kms:Decrypt (mrap_constructs.monitoring.alarm_topic_key)")
SERVICE = "cloudwatch.amazonaws.com"


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        alarm_topics = {referenced_id(action) for _, props in stack.resources("AWS::CloudWatch::Alarm")
                        for key in ("AlarmActions", "OKActions", "InsufficientDataActions")
                        for action in props.get(key, [])} - {None}
        for topic_id in sorted(alarm_topics):
            topic = stack.resource(topic_id) or {}
            if topic.get("Type") != "AWS::SNS::Topic":
                continue
            key = topic.get("Properties", {}).get("KmsMasterKeyId")
            if key is None:
                continue
            if "alias/aws/sns" in flat(key):
                yield Finding(NAME, stack.name, topic_id, "Properties.KmsMasterKeyId",
                              "alarms publish to this topic, which is under the AWS managed key alias/aws/sns: "
                              "CloudWatch cannot use it, so no notification is ever delivered")
                continue
            key_resource = stack.resource(referenced_id(key) or "") or {}
            if key_resource.get("Type") != "AWS::KMS::Key":
                continue  # a key of another stack or account: not visible here
            policy = key_resource.get("Properties", {}).get("KeyPolicy")
            missing = missing_service_actions(policy, SERVICE, ["kms:GenerateDataKey", "kms:Decrypt"])
            if missing:
                yield Finding(NAME, stack.name, topic_id, "Properties.KmsMasterKeyId",
                              f"alarms publish to this topic, but its key {referenced_id(key)} does not allow "
                              f"{SERVICE} {', '.join(missing)}: notifications are dropped")
