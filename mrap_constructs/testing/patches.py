"""Installing the emulator's corrections to moto, and undoing them: ``with installed(state): ...``.

moto's backends and classes are process-wide, so a patch is too; what this module adds is that an installation
ends. ``installed(state)`` checks the moto release and every moto attribute the corrections replace (``TOUCHED``,
the one list of moto internals the emulator reaches into), records each one, installs ``moto_patches`` acting on
``state`` and, on exit, puts every recorded attribute back (an attribute moto did not have is removed again).

Installations nest, innermost wins: a second ``installed()`` while one is active (a module's ``LocalAws`` while a
session's runs) first puts moto's own functions back, installs its corrections over them (never over the outer
ones, which would apply every rule twice) and, on exit, puts the outer installation's back. ``active()`` is the
innermost. They end in the reverse order they began.

Layers (docs/architecture.md, "The emulator's layers"): policy evaluation (``mrap_constructs._policy_facts``,
``dataplane.role_permissions``) <- resource models and ``state.EmulatorState`` (``cfn_models``,
``batch_operations``, ``change_sets``, ``s3_object_rules``, ``strict``) <- this module (``moto_patches`` wired in)
<- ``emulator.LocalAws``, the data plane, the fixtures.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mrap_constructs.testing import moto_patches
from mrap_constructs.testing.state import EmulatorState

#: The moto releases the emulator is tested with, ``(lowest, first unsupported)``: ``make moto-range`` runs the
#: emulator suites on the lowest, constraints.txt pins the newest; the ``testing`` extra of pyproject.toml declares the
#: same range. Below 5.2.5: moto 5.1.x before 5.1.20 has no ``create_multi_region_access_point``, 5.1.20 answers S3
#: requests through another handler (``S3Response.respond``), and 5.2.0-5.2.3 fail the SSE-C multipart and
#: GetObjectRetention rules (``tests/ops/test_s3_object_rules.py``), and 5.2.4's S3 drops user metadata whose name
#: has an underscore (``x-amz-meta-my_key``), which S3 keeps as sent (S3 User Guide, "Working with object metadata":
#: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html;
#: ``tests/dataplane/test_in_process.py``).
SUPPORTED_MOTO = ("5.2.5", "5.3")
#: What the emulator replaces in moto, ``{"module:Class" or "module": (attribute, ...)}``. A name in ``ADDED`` is
#: one moto does not have (the emulator adds it); every other one must exist, else the installation stops with an
#: error naming it (a moto release moved it). ``url_paths`` entries are routes added to moto's s3control URL table.
TOUCHED: dict[str, tuple[str, ...]] = {
    "moto.s3.models:FakeBucket": ("create_from_cloudformation_json", "delete_from_cloudformation_json",
                                  "get_permission", "update_from_cloudformation_json"),
    "moto.s3.models:S3Backend": ("complete_multipart_upload", "get_bucket_replication", "put_bucket_policy",
                                 "put_bucket_replication", "put_object", "upload_part", "upload_part_copy",
                                 "put_object_tagging", "delete_object"),
    "moto.s3.models:FakeKey": ("response_dict",),
    "moto.s3.responses:S3Response": ("get_bucket_replication", "get_object", "key_response", "bucket_response"),
    "moto.s3control.models:S3ControlBackend": ("create_multi_region_access_point",),
    "moto.s3control.responses:S3ControlResponse": ("call_action", "create_job", "describe_job",
                                                   "get_multi_region_access_point_routes", "list_jobs",
                                                   "submit_multi_region_access_point_routes", "dispatch"),
    "moto.cloudformation.parsing": ("resource_class_from_type",),
    "moto.cloudformation.parsing:ResourceMap": ("_delete_resource", "update"),
    "moto.cloudformation.models": ("get_stack_from_s3_url",),
    "moto.cloudformation.models:Stack": ("create_resources", "update", "_add_stack_event"),
    "moto.cloudformation.models:CloudFormationBackend": ("_resolve_update_parameters", "create_change_set",
                                                         "delete_change_set", "describe_change_set",
                                                         "execute_change_set"),
    "moto.cloudformation.responses": ("get_stack_from_s3_url",),
    "moto.cloudformation.responses:CloudFormationResponse": ("create_change_set", "delete_change_set",
                                                             "describe_change_set"),
    "moto.iam.models:ManagedPolicy": ("delete", "update_from_cloudformation_json"),
    "moto.kms.models:Key": ("create_from_cloudformation_json", "delete"),
    "moto.kms.models:KmsBackend": ("create_key", "put_key_policy"),
    "moto.ec2.models.vpcs:VPCEndPoint": ("create_from_cloudformation_json",),
    "moto.sns.models:SNSBackend": ("create_topic", "set_topic_attribute"),
    "moto.cloudwatch.models:CloudWatchBackend": ("set_alarm_state",),
    "moto.cloudwatch.responses:CloudWatchResponse": ("describe_alarm_history",),
    "moto.cloudtrail.models:CloudTrailBackend": ("create_trail", "update_trail"),
    "moto.s3control.urls": ("url_paths",),
}
#: Names in ``TOUCHED`` moto does not have (the emulator adds them); absence is expected, presence is fine too.
ADDED = frozenset({
    "moto.s3control.responses:S3ControlResponse.create_job", "moto.s3control.responses:S3ControlResponse.describe_job",
    "moto.s3control.responses:S3ControlResponse.list_jobs",
    "moto.s3control.responses:S3ControlResponse.get_multi_region_access_point_routes",
    "moto.s3control.responses:S3ControlResponse.submit_multi_region_access_point_routes",
    "moto.iam.models:ManagedPolicy.delete", "moto.iam.models:ManagedPolicy.update_from_cloudformation_json",
    "moto.cloudwatch.responses:CloudWatchResponse.describe_alarm_history",
})
#: Attributes read (not replaced) that ``TOUCHED`` lists so a moved one is named at install: they stay untouched.
READ_ONLY = frozenset({
    "moto.s3control.responses:S3ControlResponse.dispatch", "moto.cloudformation.models:Stack._add_stack_event",
})
#: The routes the emulator adds to moto's s3control URL table (``moto.s3control.urls.url_paths``).
ADDED_ROUTES = (moto_patches.ROUTES_PATH, "/v20180820/jobs", "/v20180820/jobs/<job_id>")
#: Where the active installation is recorded: on moto's own (process-wide) CloudFormation module, since it is a fact
#: about moto's classes, not about this package.
_MARK = "_mrap_installation"
_MISSING = object()


class MotoVersionError(RuntimeError):
    """The installed moto is outside ``SUPPORTED_MOTO``, or moved an attribute the emulator replaces."""


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def check_moto_version(version: str | None = None) -> str:
    """The installed moto's version, if ``SUPPORTED_MOTO`` covers it; else ``MotoVersionError`` naming both."""
    if version is None:
        from importlib.metadata import version as installed_version

        version = installed_version("moto")
    low, high = SUPPORTED_MOTO
    if not _version_tuple(low) <= _version_tuple(version) < _version_tuple(high):
        raise MotoVersionError(f"moto {version} is installed; the mrap emulator supports moto>={low},<{high} "
                               f"(pip install 'moto[server]>={low},<{high}', or the mrap 'testing' extra)")
    return version


def _target(spec: str) -> Any:
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise MotoVersionError(f"the mrap emulator patches {module_name}, which this moto does not have "
                               f"(supported: moto>={SUPPORTED_MOTO[0]},<{SUPPORTED_MOTO[1]})") from err
    if not class_name:
        return module
    found = getattr(module, class_name, None)
    if found is None:
        raise MotoVersionError(f"the mrap emulator patches {spec}, which this moto does not have "
                               f"(supported: moto>={SUPPORTED_MOTO[0]},<{SUPPORTED_MOTO[1]})")
    return found


def verify_touched() -> list[str]:
    """Every attribute of ``TOUCHED`` the installed moto lacks (except ``ADDED``): empty when the patches fit."""
    missing = []
    for spec, names in TOUCHED.items():
        target = _target(spec)
        missing += [f"{spec}.{name}" for name in names
                    if f"{spec}.{name}" not in ADDED and not hasattr(target, name)]
    return missing


@dataclass
class Installation:
    """An active set of corrections: the ``state`` they act on and the moto functions they replaced
    (``originals``, by the keys each patch documents: what tests call to see moto's own behaviour)."""

    state: EmulatorState
    originals: dict[str, Any] = field(default_factory=dict)
    #: (target, attribute, value in the target's own ``__dict__`` before, or ``_MISSING``).
    _saved: list[tuple[Any, str, Any]] = field(default_factory=list, repr=False)
    _routes: dict[str, Any] = field(default_factory=dict, repr=False)
    #: (target, its own ``__dict__`` before the install), to find a replacement ``TOUCHED`` does not list.
    _snapshots: list[tuple[Any, dict[str, Any]]] = field(default_factory=list, repr=False)
    #: The installation this one stands in for while it is active (None: moto's own functions are under it).
    outer: Installation | None = None

    def _save(self) -> None:
        for spec, names in TOUCHED.items():
            target = _target(spec)
            for name in names:
                if f"{spec}.{name}" not in READ_ONLY and name != "url_paths":
                    self._saved.append((target, name, vars(target).get(name, _MISSING)))
        from moto.s3control import urls

        self._routes = {path: urls.url_paths.get(path, _MISSING) for path in ADDED_ROUTES}

    def _changed(self) -> list[str]:
        """Attributes of a ``TOUCHED`` class that changed without being listed (a patch the table misses)."""
        listed = {(id(target), name) for target, name, _ in self._saved}
        return [f"{getattr(target, '__name__', target)}.{name}"
                for target, before in self._snapshots for name in set(vars(target)) | set(before)
                if (id(target), name) not in listed and vars(target).get(name, _MISSING) is not before.get(
                    name, _MISSING)]

    def _unpatched(self) -> None:
        """Put moto's own functions and routes (what this installation found) back, keeping the record."""
        for target, name, before in reversed(self._saved):
            if before is _MISSING:
                if name in vars(target):
                    delattr(target, name)
            else:
                setattr(target, name, before)
        from moto.s3control import urls

        for path, before in self._routes.items():
            if before is _MISSING:
                urls.url_paths.pop(path, None)
            else:
                urls.url_paths[path] = before

    def _restore(self) -> None:
        self._unpatched()
        self._saved.clear()


def active() -> Installation | None:
    """The installation in force in this process, or None."""
    from moto.cloudformation import parsing

    return getattr(parsing, _MARK, None)


@contextmanager
def installed(state: EmulatorState | None = None) -> Iterator[Installation]:
    """Install the corrections acting on ``state`` (default: a fresh ``EmulatorState``) for the block, then restore
    every moto attribute they replaced. Raises ``MotoVersionError`` before touching anything when moto is outside
    ``SUPPORTED_MOTO`` or lacks an attribute of ``TOUCHED``, and ``RuntimeError`` when an installation is active."""
    check_moto_version()
    missing = verify_touched()
    if missing:
        raise MotoVersionError(f"this moto lacks what the mrap emulator patches: {', '.join(missing)} (supported: "
                               f"moto>={SUPPORTED_MOTO[0]},<{SUPPORTED_MOTO[1]})")
    from moto.cloudformation import parsing

    outer = active()
    installation = Installation(state if state is not None else EmulatorState(), outer=outer)
    installation._save()  # what is in force now (the outer corrections, if any): put back on exit
    if outer is not None:
        outer._unpatched()  # moto's own functions under this installation's corrections
    installation._snapshots = [(target, dict(vars(target))) for target in {id(t): t for t, _, _ in
                                                                           installation._saved}.values()]
    try:
        moto_patches.install(installation.state, installation.originals)
        unlisted = installation._changed()
        if unlisted:
            raise RuntimeError(f"patches.TOUCHED misses what the emulator replaced: {', '.join(sorted(unlisted))}")
        setattr(parsing, _MARK, installation)
        yield installation
    finally:
        if active() not in (installation, outer):
            raise RuntimeError("emulator patch installations must end in the reverse order they began (stop the "
                               "LocalAws started last first)")
        if outer is not None:
            setattr(parsing, _MARK, outer)
        elif hasattr(parsing, _MARK):
            delattr(parsing, _MARK)
        installation._restore()
