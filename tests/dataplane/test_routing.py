"""Dial routing: nearest active Region, passive Regions get nothing."""

from __future__ import annotations

import pytest

from mrap_constructs.regions import SUPPORTED_REGIONS
from mrap_constructs.testing.dataplane import routing


def test_every_mrap_region_has_coordinates():
    assert set(routing.REGION_COORDINATES) == set(SUPPORTED_REGIONS)


def test_a_region_with_a_bucket_serves_itself():
    dials = {"us-east-1": 100, "eu-west-1": 100, "ap-southeast-2": 100}
    assert {r: routing.choose_region(r, dials) for r in dials} == {r: r for r in dials}


def test_nearest_active_region():
    dials = {"us-east-1": 100, "eu-west-1": 100, "ap-southeast-2": 100}
    assert routing.choose_region("eu-central-1", dials) == "eu-west-1"
    assert routing.choose_region("us-west-2", dials) == "us-east-1"
    assert routing.choose_region("ap-southeast-4", dials) == "ap-southeast-2"


def test_passive_region_receives_nothing():
    dials = {"us-east-1": 0, "eu-west-1": 100, "ap-southeast-2": 100}
    assert routing.choose_region("us-east-1", dials) == "eu-west-1"


def test_distance_is_symmetric_and_plausible():
    assert routing.distance_km("us-east-1", "eu-west-1") == pytest.approx(routing.distance_km("eu-west-1", "us-east-1"))
    assert 5000 < routing.distance_km("us-east-1", "eu-west-1") < 6000


def test_fails_when_no_region_is_active():
    with pytest.raises(routing.NoActiveRegion, match="dial 100"):
        routing.choose_region("us-east-1", {"us-east-1": 0, "eu-west-1": 0})


def test_fails_for_a_region_outside_the_table():
    with pytest.raises(ValueError, match="mars-north-1"):
        routing.choose_region("mars-north-1", {"us-east-1": 100})
