"""MrapSet: the whole multi-Region set from one construct, in a bare App, in deploy waves."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mrap_constructs import AlarmThresholds, MrapSet, ReplicationOptions

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("set")))  # bare: no feature flags
    media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1", "ap-southeast-2"],
                    account=ACCOUNT, failover_active=["us-east-1"])
    return media, app.synth()


def test_stacks_come_in_waves_and_are_named_for_the_cli(media):
    media, assembly = media
    assert [[s.stack_name for s in wave] for wave in media.waves] == [
        ["media-bucket-us-east-1", "media-bucket-eu-west-1", "media-bucket-ap-southeast-2"],
        ["media-replication-us-east-1", "media-replication-eu-west-1", "media-replication-ap-southeast-2",
         "media-access-point"]]
    # Each stack is a child of the App (artifact id = stack name, what `cdk deploy NAME` selects).
    assert sorted(s.id for s in assembly.stacks) == sorted(s.stack_name for s in media.stacks)
    bucket_stacks = set(media.bucket_stacks.values())
    for stack in media.waves[1]:
        assert set(stack.dependencies) == bucket_stacks


def test_the_set_holds_buckets_mesh_mrap_and_routes(media):
    media, _ = media
    assert media.bucket_names["eu-west-1"] == f"media-{ACCOUNT}-eu-west-1"
    replication = Template.from_stack(media.replication_stacks["eu-west-1"])
    rules = next(iter(replication.find_resources("Custom::S3BucketReplication").values()))["Properties"]["Rules"]
    assert [r["ID"] for r in rules] == ["to-ap-southeast-2", "to-us-east-1"]
    access_point = Template.from_stack(media.access_point_stack)
    access_point.resource_count_is("AWS::S3::MultiRegionAccessPoint", 1)
    access_point.has_resource_properties("Custom::MrapRoutes", {
        "Dials": {"us-east-1": "100", "eu-west-1": "0", "ap-southeast-2": "0"}})
    assert media.access_point is media.access_point_stack.access_point


def test_two_sets_in_one_app_and_options(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    MrapSet(app, "A", name="alpha", regions=["us-east-1", "eu-west-1"], account=ACCOUNT,
            replication_mode="one-way", alarms=AlarmThresholds(latency_seconds=600),
            replication_options=ReplicationOptions(rtc=True))
    beta = MrapSet(app, "B", name="beta", regions=["us-east-1"], account=ACCOUNT, dashboard=False, alarms=None,
                   access_logs=False)
    assert beta.replication_stacks == {} and len(beta.waves[0]) == 1
    assert len(app.synth().stacks) == 3 + 2 + 1 + 1


def test_fails_with_every_problem_at_once():
    with pytest.raises(ValueError) as err:
        MrapSet(cdk.App(), "Bad", name="media", regions=["us-east-1"], bucket_accounts={"eu-west-1": "12"},
                existing_buckets={"us-east-1": "Bad..Name"}, restrict_to_endpoints=True)
    text = str(err.value)
    assert "MrapSet 'Bad' has invalid input" in text
    assert "bucket_accounts['eu-west-1']='12': names eu-west-1, which is not one of regions ['us-east-1']" in text
    assert "bucket_accounts['eu-west-1']='12': must be a 12-digit AWS account id" in text
    assert "account=None: bucket_accounts needs the MRAP's account" in text
    assert "existing_buckets['us-east-1']='Bad..Name': must be 3-63 lowercase" in text
    assert "restrict_to_endpoints=True: needs privatelink_regions" in text
