"""MrapSet: the whole multi-Region set from one construct, in a bare App, in deploy waves."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mrap_constructs import (
    AlarmThresholds,
    FailoverOptions,
    MonitoringOptions,
    MrapSet,
    PrivateLinkOptions,
    ReplicationOptions,
)

ACCOUNT = "111122223333"


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("set")))  # bare: no feature flags
    media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1", "ap-southeast-2"],
                    account=ACCOUNT, failover=FailoverOptions(active=["us-east-1"]))
    return media, app.synth()


def test_stacks_come_in_waves_and_are_named_for_the_cli(media):
    media, assembly = media
    assert [[s.stack_name for s in wave] for wave in media.waves] == [
        ["media-bucket-us-east-1", "media-bucket-eu-west-1", "media-bucket-ap-southeast-2"],
        ["media-replication-us-east-1", "media-replication-eu-west-1", "media-replication-ap-southeast-2",
         "media-access-point"]]
    # Each stack is the set's child, named explicitly as it was when it was the App's child (deployed stacks keep
    # their names); the CLI lists and selects it by its path.
    assert all(s.node.scope is media for s in media.stacks)
    assert sorted(s.stack_name for s in assembly.stacks) == sorted(s.stack_name for s in media.stacks)
    assert sorted(a.hierarchical_id for a in assembly.stacks) == sorted(f"Media/{s.stack_name}" for s in media.stacks)
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
            replication=ReplicationOptions(mode="one-way", rtc=True),
            monitoring=MonitoringOptions(alarms=AlarmThresholds(latency_seconds=600)))
    beta = MrapSet(app, "B", name="beta", regions=["us-east-1"], account=ACCOUNT,
                   monitoring=MonitoringOptions(dashboard=False, alarms=None, access_logs=False))
    assert beta.replication_stacks == {} and len(beta.waves[0]) == 1
    assert len(app.synth().stacks) == 3 + 2 + 1 + 1


def test_fails_with_every_problem_at_once():
    with pytest.raises(ValueError) as err:
        MrapSet(cdk.App(), "Bad", name="media", regions=["us-east-1"], bucket_accounts={"eu-west-1": "12"},
                existing_buckets={"us-east-1": "Bad..Name"},
                replication=ReplicationOptions(rtc=True, metrics=False, source_region="us-east-1"),
                privatelink=PrivateLinkOptions(regions=[], vpc_cidr="10.0.0.0/8", restrict_to_endpoints=True))
    text = str(err.value)
    assert "MrapSet 'Bad' has invalid input" in text
    assert "bucket_accounts['eu-west-1']='12': names eu-west-1, which is not one of regions ['us-east-1']" in text
    assert "bucket_accounts['eu-west-1']='12': must be a 12-digit AWS account id" in text
    assert "account=None: bucket_accounts needs the MRAP's account" in text
    assert "existing_buckets['us-east-1']='Bad..Name': must be 3-63 lowercase" in text
    # Each option group's rules, named by group and field as the app config names them.
    assert "replication.rtc=True: Replication Time Control needs metrics=True" in text
    assert "replication.source_region='us-east-1': only applies to mode 'one-way'" in text
    assert "privatelink.regions=[]: name at least one Region" in text
    assert "privatelink.vpc_cidr='10.0.0.0/8': use a /16 to /22 network" in text
    assert "monitoring.alarms='on': needs replication.metrics" in text


def test_flat_keywords_still_work_with_a_deprecation_warning(tmp_path):
    """The keywords of the previous release map onto the option groups: the same stacks and templates."""
    def build(outdir, **props):
        app = cdk.App(outdir=str(outdir))
        media = MrapSet(app, "Media", name="media", regions=["us-east-1", "eu-west-1"], account=ACCOUNT, **props)
        return media, {s.stack_name: s.template for s in app.synth().stacks}

    with pytest.warns(DeprecationWarning, match=r"flat keywords .*'failover_active'.* use the option groups") as seen:
        old, old_templates = build(tmp_path / "old", failover_active=["us-east-1"], replication_mode="one-way",
                                   alarms=None, dashboard=False, privatelink_regions=["us-east-1"],
                                   privatelink_availability_zones={"us-east-1": ["us-east-1a", "us-east-1b"]})
    assert seen[0].filename == __file__  # the warning points at the caller's line
    new, new_templates = build(
        tmp_path / "new", failover=FailoverOptions(active=["us-east-1"]),
        replication=ReplicationOptions(mode="one-way"), monitoring=MonitoringOptions(alarms=None, dashboard=False),
        privatelink=PrivateLinkOptions(regions=["us-east-1"],
                                       availability_zones={"us-east-1": ["us-east-1a", "us-east-1b"]}))
    assert old.options == new.options
    assert old_templates == new_templates


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['failover_actve'\]"):
        MrapSet(cdk.App(), "Media", name="media", regions=["us-east-1"], failover_actve=["us-east-1"])
