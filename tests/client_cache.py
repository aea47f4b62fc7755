"""Plain boto3 clients built once per session, for the emulator suites (``tests/ops``, ``tests/dataplane``); not
imported by ``tests/conftest.py``, so pytest-xdist's controller, which runs no test, does not load boto3."""

from __future__ import annotations

from typing import Any

import boto3


class ClientCache(boto3.Session):
    """A ``boto3.Session`` whose plain ``client(service, region_name=...)`` is built once and then reused: botocore
    parses the service's endpoint rules into objects for every client it builds (~10 ms for S3), and the emulator
    suites ask for a thousand. moto's mock intercepts these clients whenever they were built. A client asked for
    with any other argument (an endpoint, credentials, a config) is built new each time: one a test changes (an event
    handler, a ``Stubber``) must be asked for that way, or it would carry the change into later tests."""

    def __init__(self) -> None:
        # moto first: it adds its stubber to botocore's built-in handlers, which a session takes when it is created.
        import moto  # noqa: F401

        super().__init__()
        self._plain: dict[tuple[str, str | None], Any] = {}

    def client(self, service_name: str, region_name: str | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs:
            return super().client(service_name, region_name=region_name, **kwargs)
        key = (service_name, region_name)
        if key not in self._plain:
            self._plain[key] = super().client(service_name, region_name=region_name)
        return self._plain[key]
