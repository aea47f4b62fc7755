"""Fixtures for the boto3 side: moto for what it implements (MRAP control plane, S3), Stubber for routes."""

from __future__ import annotations

import os

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from mrap_constructs.ops.client import MrapClient
from mrap_constructs.testing import patches
from tests.client_cache import ClientCache

ACCOUNT = "123456789012"  # moto's default account
#: One session for every test: boto3 loads service models once per session (10x faster clients), and a plain client
#: (service and Region only) is built once.
SESSION = ClientCache()
REGIONS = ["eu-west-1", "us-east-1"]
BUCKETS = {r: f"media-{ACCOUNT}-{r}" for r in REGIONS}


@pytest.fixture
def emulator_patches():
    """The emulator's corrections to moto installed for the test (``patches.installed``, undone after it) on a fresh
    ``EmulatorState``: what a test that reads the originals, the state or a patched moto function needs, whichever
    test ran before it."""
    with patches.installed() as installation:
        yield installation


@pytest.fixture
def moto_patched(emulator_patches):
    """The moto functions the corrections replaced, by the keys each patch documents."""
    return emulator_patches.originals


@pytest.fixture
def aws(moto_patched):
    """moto in-process, fake credentials, no real endpoint reachable."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    with mock_aws():
        yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class FakeClock:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def mrap(aws, bucket_factory):
    """A versioned bucket per Region and an MRAP over them, in moto."""
    for region, bucket in BUCKETS.items():
        bucket_factory(SESSION.client("s3", region_name=region), bucket)
    control = SESSION.client("s3control", region_name="us-west-2")
    control.create_multi_region_access_point(
        AccountId=ACCOUNT, ClientToken="t",
        Details={"Name": "media", "PublicAccessBlock": {k: True for k in (
            "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")},
                 "Regions": [{"Bucket": b} for b in BUCKETS.values()]})
    return "media"


@pytest.fixture
def client(aws, clock):
    return MrapClient(ACCOUNT, session=SESSION, sleep=clock.sleep, clock=clock)


@pytest.fixture
def routes_stub(client):
    """A Stubber on the routes-API client (moto does not implement routes)."""
    routes_client = client.routes_client(REGIONS)
    with Stubber(routes_client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
