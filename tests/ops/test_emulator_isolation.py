"""Two emulators one after the other in one process share nothing: each ``LocalAws`` starts from a fresh
``EmulatorState`` and fresh moto backends, and its corrections to moto are undone when it stops.
The supported moto range is checked at start."""

from __future__ import annotations

import pytest

from mrap_constructs.testing import patches
from mrap_constructs.testing.emulator import LocalAws

REGIONS = ["us-east-1", "eu-west-1"]


def _mrap_with_routes_and_a_job(aws: LocalAws) -> str:
    """An MRAP over two buckets, a routes update and a batch job in the emulator; the MRAP's ARN."""
    for region in REGIONS:
        s3 = aws.client("s3", region)
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=f"iso-{region}", **kwargs)
        s3.put_bucket_versioning(Bucket=f"iso-{region}", VersioningConfiguration={"Status": "Enabled"})
    control = aws.client("s3control", "us-west-2")
    control.create_multi_region_access_point(AccountId=aws.account, ClientToken="t", Details={
        "Name": "iso", "Regions": [{"Bucket": f"iso-{r}"} for r in REGIONS]})
    alias = control.get_multi_region_access_point(AccountId=aws.account, Name="iso")["AccessPoint"]["Alias"]
    arn = f"arn:aws:s3::{aws.account}:accesspoint/{alias}"
    control.submit_multi_region_access_point_routes(AccountId=aws.account, Mrap=arn, RouteUpdates=[
        {"Region": "eu-west-1", "TrafficDialPercentage": 0}])
    aws.client("s3control", "us-east-1").create_job(
        AccountId=aws.account, ConfirmationRequired=False, Operation={"S3ReplicateObject": {}}, Priority=1,
        RoleArn=f"arn:aws:iam::{aws.account}:role/backfill", ClientRequestToken="iso",
        Report={"Enabled": False},
        ManifestGenerator={"S3JobManifestGenerator": {"SourceBucket": "arn:aws:s3:::iso-us-east-1",
                                                      "EnableManifestOutput": False}})
    return arn


def test_two_emulators_in_sequence_share_no_mrap_route_or_job():
    from moto.s3.models import S3Backend

    before, outer = S3Backend.put_object, patches.active()  # moto's own, or a session emulator's corrections
    with LocalAws() as first:
        arn = _mrap_with_routes_and_a_job(first)
        assert first.state.routes[arn] == {"us-east-1": 100, "eu-west-1": 0}
        assert first.state.jobs and first.client("s3control", "us-east-1").list_jobs(
            AccountId=first.account)["Jobs"]
    assert S3Backend.put_object is before and patches.active() is outer, "the corrections are undone at stop"
    with LocalAws() as second:
        assert second.state is not first.state
        assert (second.state.routes, second.state.jobs, second.state.custom_resource_log) == ({}, {}, [])
        control = second.client("s3control", "us-west-2")
        assert control.list_multi_region_access_points(AccountId=second.account)["AccessPoints"] == []
        assert second.client("s3control", "us-east-1").list_jobs(AccountId=second.account)["Jobs"] == []
        assert second.client("s3").list_buckets()["Buckets"] == []
        # The same steps work again from scratch (nothing left over to collide with).
        again = _mrap_with_routes_and_a_job(second)
        assert second.state.routes == {again: {"us-east-1": 100, "eu-west-1": 0}}
    assert first.state.routes == {arn: {"us-east-1": 100, "eu-west-1": 0}}, "the first state is its own"


def test_the_installed_moto_is_in_the_supported_range_and_fits_the_patches():
    assert patches.check_moto_version()
    assert patches.verify_touched() == []


@pytest.mark.parametrize("version", ["4.2.14", "5.1.22", "5.2.3", "5.2.4", "5.3.0", "6.0.0"])
def test_a_moto_outside_the_range_is_refused_naming_both(version):
    low, high = patches.SUPPORTED_MOTO
    with pytest.raises(patches.MotoVersionError, match=rf"moto {version} is installed.*moto>={low},<{high}"):
        patches.check_moto_version(version)


def test_a_moved_moto_attribute_is_named_at_install(monkeypatch):
    """A moto release that moved something the corrections replace stops the installation before it touches moto."""
    from moto.s3.models import S3Backend

    monkeypatch.setitem(patches.TOUCHED, "moto.s3.models:S3Backend", ("put_object", "no_such_method"))
    with pytest.raises(patches.MotoVersionError, match=r"moto\.s3\.models:S3Backend\.no_such_method"):
        with patches.installed():
            pass
    assert not hasattr(S3Backend, "no_such_method")
