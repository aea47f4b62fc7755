"""The emulator's own state, in one object: what moto does not keep for the services the emulator adds.

One ``EmulatorState`` per emulator (``LocalAws`` makes a fresh one at every ``start``); the patches reach it
through the installation that holds it (``patches.installed(state)``), never through a module global, so two
emulators started one after the other in one process share nothing (``tests/ops/test_emulator_isolation.py``).

What lives here (moto keeps everything else, in its own backends):

- ``endpoint_url``: the URL of the running moto server (custom resources and batch jobs call AWS APIs through it);
- ``routes`` / ``routes_schedule`` / ``routes_delay`` / ``clock``: the MRAP routes API moto lacks
  (``moto_patches._mrap_routes_api``) and when an update reaches the data plane;
- ``custom_resource_log`` / ``skipped_types``: what the CloudFormation runner did and could not do;
- ``jobs`` / ``replication_status`` / ``tokens``: S3 Batch Operations (``batch_operations``);
- ``cleanup_failures``: cleanup tasks of stack updates that failed (CloudFormation's ``DELETE_FAILED``);
- ``cleanup``: the cleanup phase of the stack update running on each thread (``defer_cleanup``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mrap_constructs.testing.clients import emulator_client

#: Passes over the cleanup tasks (a delete that fails on a dependency is tried again after the others).
CLEANUP_PASSES = 5


def default_routes_delay() -> float:
    """Seconds between a routes update and the data plane using it: ``MRAP_EMULATOR_ROUTES_DELAY``, default 0."""
    return float(os.environ.get("MRAP_EMULATOR_ROUTES_DELAY", "0"))


def failure_reason(err: Exception) -> str:
    """``CODE: message`` of a resource failure, as CloudFormation's ``StackStatusReason`` reads (moto's errors carry
    ``error_type``/``message``; ``str()`` of one is its whole XML body)."""
    code = getattr(err, "error_type", None) or getattr(err, "code", None) or type(err).__name__
    message = getattr(err, "message", None) or str(err)
    return f"{code}: {message}"


@dataclass
class EmulatorState:
    """Everything the emulator keeps beside moto's backends (see the module docstring)."""

    #: The URL of the running moto server; None until an emulator serves this state.
    endpoint_url: str | None = None
    #: Routing dials per MRAP ARN, ``{arn: {region: dial}}``: what GetMultiRegionAccessPointRoutes answers. A Region
    #: not listed is active (100).
    routes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The dials the data plane routes by, per MRAP ARN: ``[(clock time it takes effect, {region: dial}), ...]``
    #: oldest first (``routes_in_force``). AWS: "Updated routing configurations might not be immediately applied. It
    #: can take up to 2 minutes for your changes to take effect" (S3 Control API Reference,
    #: SubmitMultiRegionAccessPointRoutes; ``botocore/data/s3control/2018-08-20/service-2.json``).
    routes_schedule: dict[str, list[tuple[float, dict[str, int]]]] = field(default_factory=dict)
    #: Seconds between a routes update and the data plane using it (AWS: up to 120; default 0, so tests stay fast).
    routes_delay: float = field(default_factory=default_routes_delay)
    #: The time routes updates are scheduled by (``time.monotonic``; a test may replace it).
    clock: Callable[[], float] = time.monotonic
    #: Every custom-resource request the runner handled: (resource type, request type, logical id).
    custom_resource_log: list[tuple[str, str, str]] = field(default_factory=list)
    #: Resource types moto's CloudFormation skipped (created nothing for): what the emulator cannot prove.
    skipped_types: set[str] = field(default_factory=set)
    #: S3 Batch Operations jobs, ``{(account, region): {job id: job}}``.
    jobs: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: Replication statuses batch jobs set, ``{(bucket, key, version id): status}``.
    replication_status: dict[tuple[str, str, str], str] = field(default_factory=dict)
    #: CreateJob's idempotency: ``{(account, region, ClientRequestToken): job id}``.
    tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)
    #: Cleanup tasks that failed, as (stack resource, error): CloudFormation logs them (DELETE_FAILED) and still
    #: completes the update, leaving the old resource behind.
    cleanup_failures: list[tuple[str, str]] = field(default_factory=list)
    #: The cleanup phase of the stack update running on each thread (moto serves each request on its own thread).
    cleanup: threading.local = field(default_factory=threading.local, repr=False)
    #: Serializes batch-job creation (idempotency tokens).
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- the routes API ------------------------------------------------------------------------------------------
    def submit_routes(self, arn: str, dials: dict[str, int]) -> None:
        """Store a routes update (``routes``) and schedule it for the data plane ``routes_delay`` seconds from now."""
        self.routes[arn] = dict(dials)
        self.routes_schedule.setdefault(arn, []).append((self.clock() + self.routes_delay, dict(dials)))

    def routes_in_force(self, arn: str) -> dict[str, int]:
        """The dials the data plane routes ``arn`` by now: the latest update whose delay has passed (``{}``: none
        yet, every Region active)."""
        now = self.clock()
        due = [dials for at, dials in self.routes_schedule.get(arn, []) if at <= now]
        return due[-1] if due else {}

    # -- CloudFormation's cleanup phase --------------------------------------------------------------------------
    def defer_cleanup(self, what: str, task: Callable[[], None]) -> None:
        """Run ``task`` in the cleanup phase of the stack update in progress on this thread: after every resource
        was created and updated (and only if all succeeded), as CloudFormation deletes removed resources, replaced
        resources and the old physical ids of custom resources. Outside an update, ``task`` runs at once."""
        tasks = getattr(self.cleanup, "tasks", None)
        if tasks is None:
            task()
        else:
            tasks.append((what, task))

    def run_cleanup(self, tasks: list[tuple[str, Callable[[], None]]]) -> None:
        """Run the cleanup tasks of an update: a failing one is retried after the others (dependencies), then
        logged like DELETE_FAILED (``cleanup_failures``)."""
        pending = list(tasks)
        errors: dict[str, str] = {}
        for _ in range(CLEANUP_PASSES):
            if not pending:
                return
            failed = []
            for what, task in pending:
                try:
                    task()
                except Exception as err:  # retried after the others (dependencies), then logged like DELETE_FAILED
                    errors[what] = failure_reason(err)
                    failed.append((what, task))
            pending = failed
        for what, _task in pending:
            logging.getLogger("mrap.emulator").warning("cleanup of %s failed: %s", what, errors[what])
            self.cleanup_failures.append((what, errors[what]))

    # -- clients -------------------------------------------------------------------------------------------------
    def client(self, service: str, region: str, account: str | None = None) -> Any:
        """A boto3 client on the emulator serving this state, acting in ``account``."""
        if self.endpoint_url is None:
            raise RuntimeError("no emulator serves this state (EmulatorState.endpoint_url is unset): start a LocalAws")
        return emulator_client(self.endpoint_url, service, region, account)

    def reset(self) -> None:
        """Forget everything (between test scenarios); the endpoint and the routes delay stay."""
        self.routes.clear()
        self.routes_schedule.clear()
        self.custom_resource_log.clear()
        self.jobs.clear()
        self.replication_status.clear()
        self.tokens.clear()
        self.cleanup_failures.clear()
