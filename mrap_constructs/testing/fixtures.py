"""pytest fixtures for application teams: an MRAP on the local emulator, reachable by unchanged boto3 code.

Enable in your ``conftest.py`` with ``pytest_plugins = ["mrap_constructs.testing.fixtures"]``, then:

Example:
    @pytest.mark.mrap(regions=["us-east-1", "eu-west-1"])
    def test_upload_is_readable_everywhere(mrap):
        version = mrap.s3.put_object(Bucket=mrap.arn, Key="a.txt", Body=b"hi")["VersionId"]
        mrap.wait_replicated("a.txt")
        mrap.fail_over(to="eu-west-1")
        assert mrap.s3.get_object(Bucket=mrap.arn, Key="a.txt")["VersionId"] == version

The ``mrap`` marker takes ``LocalDataPlane.create_mrap``'s arguments (``regions``, ``two_way``, ``delete_markers``,
``metrics``, ``prefix``, ``role_actions``, ``name``, ``bucket_prefix``), ``delay`` (replication lag), ``routes_delay``
(seconds before a routes update reaches the data plane; AWS: up to 2 minutes; default 0), or ``config=`` (a config
file of your CDK app) to deploy with the real CDK CLI through ``LocalDeployment`` (``project=`` its directory; slower:
bootstrap + deploy). Without a marker: two Regions, us-east-1 and eu-west-1, two-way. ``mrap.env`` holds the variables
to run a program of yours in a subprocess against it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from mrap_constructs.testing.dataplane.session import LocalDataPlane, Mrap

#: Replication lag of the fixtures, in seconds (short, so a test can still see PENDING with a pause).
DEFAULT_DELAY = float(os.environ.get("MRAP_EMULATOR_REPLICATION_DELAY", "0.05"))
#: Seconds before a routes update reaches the data plane (AWS: up to 120): ``MRAP_EMULATOR_ROUTES_DELAY``, default 0.
DEFAULT_ROUTES_DELAY = float(os.environ.get("MRAP_EMULATOR_ROUTES_DELAY", "0"))


@dataclass
class MrapUnderTest:
    """What the ``mrap`` fixture yields: the MRAP and the helpers to drive it."""

    dataplane: LocalDataPlane
    point: Mrap
    s3: Any

    @property
    def alias(self) -> str:
        return self.point.alias

    @property
    def arn(self) -> str:
        return self.point.arn

    @property
    def buckets(self) -> dict[str, str]:
        return self.point.buckets

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` without its AWS settings, plus the emulator's (for a subprocess of yours)."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k.upper() not in
                ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY")}
        return {**kept, **self.dataplane.environment()}

    def wait_replicated(self, key: str, version_id: str | None = None, timeout: float = 30) -> str:
        """Wait until ``key`` is in every bucket; its version id."""
        return self.dataplane.wait_replicated(self.point, key, version_id, timeout=timeout)

    def fail_over(self, to: str | list[str]) -> None:
        """Only ``to`` active from the next request on."""
        self.dataplane.fail_over(self.point, to)

    def set_client_region(self, region: str) -> None:
        self.dataplane.set_client_region(region)

    def bucket_client(self, region: str) -> Any:
        """A plain S3 client on the emulator for the bucket in ``region`` (to look behind the MRAP)."""
        return self.dataplane.aws.client("s3", region)

    def served_by(self, response: dict[str, Any]) -> str | None:
        return self.dataplane.served_by(response)

    @contextmanager
    def replication_paused(self) -> Iterator[None]:
        """Hold every copy back while the block runs (a lagging Region, without timing): inside, what was written
        is only in the bucket it was written to and reads ``PENDING``; on exit, replication resumes."""
        self.dataplane.engine.paused.clear()
        try:
            yield
        finally:
            self.dataplane.engine.paused.set()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mrap(**options): the MRAP the `mrap` fixture sets up (see "
                                       "mrap_constructs.testing.fixtures)")


@pytest.fixture(scope="session")
def mrap_dataplane() -> Iterator[LocalDataPlane]:
    """The emulator with its data plane, started once per session."""
    with LocalDataPlane(delay=DEFAULT_DELAY) as dataplane:
        yield dataplane


@pytest.fixture
def mrap(request: pytest.FixtureRequest, mrap_dataplane: LocalDataPlane) -> Iterator[MrapUnderTest]:
    """A fresh emulator state with one MRAP (the ``mrap`` marker's), and a client through it."""
    marker = request.node.get_closest_marker("mrap")
    options = dict(marker.kwargs) if marker else {}
    mrap_dataplane.engine.reset()
    mrap_dataplane.aws.reset()
    mrap_dataplane.plane.log.clear()
    mrap_dataplane.plane.denials.clear()
    mrap_dataplane.engine.delay = options.pop("delay", DEFAULT_DELAY)
    mrap_dataplane.aws.state.routes_delay = options.pop("routes_delay", DEFAULT_ROUTES_DELAY)
    mrap_dataplane.engine.paused.set()
    mrap_dataplane._client_region_set = "client_region" in options
    if "client_region" in options:
        mrap_dataplane.set_client_region(options.pop("client_region"))
    if "config" in options:
        point = _deploy(mrap_dataplane, options)
    else:
        regions = options.pop("regions", ["us-east-1", "eu-west-1"])
        point = mrap_dataplane.create_mrap(options.pop("name", "app"), regions, **options)
    yield MrapUnderTest(mrap_dataplane, point, mrap_dataplane.s3_client())
    mrap_dataplane.engine.paused.set()
    mrap_dataplane.wait_idle(10)


def _deploy(dataplane: LocalDataPlane, options: dict[str, Any]) -> Mrap:
    import json
    from pathlib import Path

    from mrap_constructs.testing.local_deploy import LocalDeployment

    project = Path(options.get("project", "."))
    config = options["config"]
    name = options.get("name") or json.loads((project / config).read_text())["name"]
    deployment = LocalDeployment(dataplane.aws, project=project, config=config, regions=options.get("regions"))
    deployment.bootstrap()
    deployment.deploy()
    point = dataplane.mrap(name)
    if not dataplane._client_region_set:
        dataplane.set_client_region(next(iter(point.buckets)))
    return point
