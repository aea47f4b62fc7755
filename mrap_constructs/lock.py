"""The deployed-state guard: what is deployed, recorded after a deploy succeeded, checked at every synth.

An MRAP's name, Regions (buckets) and public-access block are create-only: changing one makes CloudFormation create
a new MRAP — new alias, new ARN, every client broken — and creating it fails while the old one with the same name
exists. Other changes are only safe from some deployed states (SSE-S3 to SSE-KMS, the stack that owns the MRAP
policy). So the app compares each synth with what is *deployed*, known offline from a lock file committed next to the
config (``mrap.lock.json`` for ``cdk.json``, ``FILE.lock.json`` for ``-c config=FILE.json``, or ``lock_file``).

How the lock knows what is deployed (lock version 3):

* every synth writes what it would deploy to ``cdk.out/mrap.pending.json`` (``pending_entry``), never the lock;
* after ``cdk deploy --all`` succeeded, ``python -m mrap_constructs.lock record`` promotes it: it reads the deploy's
  outputs file (``cdk-outputs.json``; cdk.json's ``outputsFile`` makes every deploy write it) and records the entry
  only when every stack of the set is in it (the CDK CLI writes a stack's outputs only once it deployed) and the
  outputs name the same MRAP and buckets. A failed or partial deploy records nothing;
* entries are keyed by the set and account (``ACCOUNT/NAME``; ``NAME`` is the config's ``name``, which names the
  stacks), not by the config file's name;
* a missing entry while the set is known to exist (the outputs file lists its access-point stack) is an error naming
  the command that recreates it (``-c mrap_lock=adopt``: record the config as deployed).

Locks written by earlier releases (versions 1 and 2: the create-only properties as last synthesized, no account)
are read as the entry of the set whose MRAP has that name, in any account.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: 3: keyed entries recorded after a deploy. 2: one MRAP's create-only properties, written at synth (a one-Region
#: MRAP has no replication stack). 1: as 2, written by releases that gave one Region a replication stack.
LOCK_VERSION = 3
DEFAULT_LOCK_FILE = "mrap.lock.json"
#: Where a synth leaves what it would deploy (inside the cloud assembly directory).
PENDING_FILE = "mrap.pending.json"
#: The outputs file every ``cdk deploy`` writes (cdk.json ``outputsFile``).
DEFAULT_OUTPUTS_FILE = "cdk-outputs.json"
#: The context value that records the synthesized config as deployed (recreating a lost entry).
ADOPT_CONTEXT_KEY = "mrap_lock"
UNKNOWN_ACCOUNT = "default-account"
_LEGACY = "*"


class ReplacementError(ValueError):
    """The config would replace an existing MRAP (or make a change refused from the deployed state)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LockEntry:
    """One deployed set: its key (``ACCOUNT/NAME``), the MRAP's create-only properties, the config as deployed
    (None in a lock from an earlier release), the library state the app derived (``policy_owner``,
    ``policy_generation``, ``kms_default_encryption``), the stacks deployed, and the version it was read at."""

    key: str
    create_only: dict
    config: dict | None = None
    state: dict = field(default_factory=dict)
    stacks: tuple[str, ...] = ()
    read_version: int = LOCK_VERSION

    def as_json(self) -> dict:
        return {"create_only": self.create_only, "config": self.config, "state": self.state,
                "stacks": list(self.stacks)}


@dataclass(frozen=True)
class LockResult:
    """What the guard found: ``"new"`` (no entry: a first deploy), ``"unchanged"``, ``"changed"`` (an allowed
    change of the deployed set), ``"replaced"`` (an allowed MRAP replacement) or ``"adopted"`` (the entry was written
    from this synth); the lock file; the Regions a replacement dropped (their stacks left the app but stay deployed);
    and the entry as it was read: its version and Regions (None and empty when there was none)."""

    action: str
    path: Path
    removed_regions: tuple[str, ...] = ()
    read_version: int | None = None
    previous_regions: tuple[str, ...] = ()
    entry: LockEntry | None = None


def lock_key(name: str, account: str | None) -> str:
    """``ACCOUNT/NAME``: the set's lock key (``default-account`` when the account is not known at synth)."""
    return f"{account or UNKNOWN_ACCOUNT}/{name}"


def lock_path_for(config_file: str | None, lock_file: str | None = None) -> Path:
    """The lock file: ``lock_file`` if set, else next to the config file, else ``mrap.lock.json``."""
    if lock_file:
        return Path(lock_file)
    if config_file:
        path = Path(config_file)
        return path.with_name(f"{path.stem}.lock.json")
    return Path(DEFAULT_LOCK_FILE)


def read_lock(path: Path) -> dict[str, LockEntry]:
    """The entries of the lock at ``path`` (empty when there is none), keyed ``ACCOUNT/NAME``; a lock of an earlier
    release is one entry keyed ``*/MRAP_NAME``.

    Raises:
        ValueError: a lock written by a newer release.
    """
    if not path.exists():
        return {}
    lock = json.loads(path.read_text())
    version = lock.get("version", 1)
    if not isinstance(version, int) or version > LOCK_VERSION:
        raise ValueError(f"{path}: lock version {version!r} is not one this release reads (1 to {LOCK_VERSION}); it "
                         "was written by a newer release of mrap: upgrade mrap, do not edit the lock")
    if version < 3:
        create_only = lock.get("create_only", {})
        key = f"{_LEGACY}/{create_only.get('Name')}"
        return {key: LockEntry(key, create_only, read_version=version)}
    return {key: LockEntry(key, value.get("create_only", {}), value.get("config"), dict(value.get("state") or {}),
                           tuple(value.get("stacks") or ()), version)
            for key, value in (lock.get("sets") or {}).items()}


def find_entry(entries: Mapping[str, LockEntry], name: str, account: str | None,
               mrap_names: Iterable[str] = ()) -> LockEntry | None:
    """The entry of set ``name`` in ``account``: by its key; with the account unknown at synth, the only entry of that
    name; else a lock of an earlier release whose MRAP is one of ``mrap_names`` (or ``name``)."""
    if (entry := entries.get(lock_key(name, account))) is not None:
        return entry
    if account is None:
        same = [e for k, e in entries.items() if k.split("/", 1)[1] == name and not k.startswith(_LEGACY)]
        if len(same) == 1:
            return same[0]
    for mrap_name in (*mrap_names, name):
        if (entry := entries.get(f"{_LEGACY}/{mrap_name}")) is not None:
            return entry
    return None


def write_entry(path: Path, entry: LockEntry) -> None:
    """Write ``entry`` into the lock at ``path`` (version 3), keeping the other sets' entries; a lock of an earlier
    release is replaced by the entry (it described the same MRAP)."""
    entries = {k: e for k, e in read_lock(path).items() if not k.startswith(_LEGACY)}
    entries[entry.key] = entry
    path.write_text(json.dumps({"version": LOCK_VERSION, "sets": {k: e.as_json() for k, e in sorted(entries.items())}},
                               indent=2, sort_keys=True) + "\n")


def replacement_changes(locked: dict, current: dict) -> list[str]:
    """Describe every create-only property that differs between the lock and the current synth."""
    changes = []
    for key in ("Name", "Regions", "PublicAccessBlockConfiguration"):
        before, after = locked.get(key), current.get(key)
        if before == after:
            continue
        if key == "Regions":
            added = sorted(set(after) - set(before))
            removed = sorted(set(before) - set(after))
            moved = sorted(r for r in set(after) & set(before) if after[r] != before[r])
            parts = [f"added {added}" if added else "", f"removed {removed}" if removed else "",
                     f"bucket changed in {moved}" if moved else ""]
            changes.append("Regions: " + ", ".join(p for p in parts if p))
        else:
            changes.append(f"{key}: {json.dumps(before)} -> {json.dumps(after)}")
    return changes


def enforce_lock(path: Path, current: dict, *, allow_replacement: bool, entry: LockEntry | None = None,
                 read: bool = True) -> LockResult:
    """Compare ``current`` create-only properties with the deployed ``entry`` (default: the lock at ``path``, entry
    of the MRAP named in ``current``, or its only entry). Never writes the lock: ``record`` does, after a deploy.

    A replacement under the same name is refused whatever ``allow_replacement`` says: CloudFormation cannot create
    a custom-named resource whose name is taken ("a custom-named resource cannot be replaced"), so the deploy would
    roll back. A replacement under a new name (the blue/green path) needs ``allow_replacement``.

    Raises:
        ReplacementError: the replacement is refused.
    """
    if entry is None and read:
        entries = read_lock(path)
        entry = find_entry(entries, str(current.get("Name")), None, [str(current.get("Name"))])
        if entry is None and len(entries) == 1:  # one set in the lock: a new MRAP name is that set's replacement
            entry = next(iter(entries.values()))
    if entry is None:
        return LockResult("new", path)
    locked = entry.create_only
    info = {"read_version": entry.read_version, "previous_regions": tuple(sorted(locked.get("Regions") or {})),
            "entry": entry}
    changes = replacement_changes(locked, current)
    if not changes:
        return LockResult("unchanged", path, **info)
    name = locked.get("Name")
    same_name = name == current.get("Name")
    if same_name:
        raise ReplacementError(
            [f"mrap: this change replaces the Multi-Region Access Point {name!r} deployed as recorded in {path}:"]
            + [f"  {change}" for change in changes]
            + ["  CloudFormation cannot replace it under the same name (a custom-named resource cannot be replaced: "
               "the new MRAP's name is taken by the old one), so the access-point stack would roll back; "
               "allow_replacement does not change that.",
               "  Safe path (blue/green): give the MRAP a new name with \"access_point_name\" and set "
               "\"allow_replacement\": true; one `cdk deploy --all` creates the new MRAP beside the old one over the "
               "same buckets, then move clients to the new alias and delete the old MRAP with the printed command "
               "(docs/operations.md, 'Adding or removing a Region'). Or revert the change."])
    if not allow_replacement:
        raise ReplacementError(
            [f"mrap: this change replaces the Multi-Region Access Point {name!r} recorded in {path}:"]
            + [f"  {change}" for change in changes]
            + ["  A replacement gets a new alias and ARN: every client and policy using the old alias must move to "
               "the new one. The old MRAP is kept (UpdateReplacePolicy Retain) until you delete it.",
               "  If this is intended, set \"allow_replacement\": true for this deploy, or revert the change."])
    removed = sorted(set(info["previous_regions"]) - set(current.get("Regions") or {}))
    return LockResult("replaced", path, tuple(removed), **info)


# --- recording what a deploy did ------------------------------------------------------------------------------------


def pending_entry(key: str, create_only: dict, config: dict | None, state: dict,
                  stacks: Mapping[str, Mapping[str, str]], lock_path: Path) -> dict:
    """What a synth would deploy, for ``record``: the entry, the lock it goes to, and per stack the outputs a
    successful deploy must show (``{stack: {output: value}}``, values None when only presence is checked)."""
    return {"lock": str(lock_path), "entry": LockEntry(key, create_only, config, state, tuple(sorted(stacks)))
            .as_json() | {"key": key}, "expect": {s: dict(o) for s, o in stacks.items()}}


def write_pending(out_dir: str | Path, pendings: list[dict]) -> Path:
    path = Path(out_dir) / PENDING_FILE
    path.write_text(json.dumps({"version": LOCK_VERSION, "pending": pendings}, indent=2, sort_keys=True) + "\n")
    return path


def record(cdk_out: Path, outputs_file: Path) -> list[str]:
    """Promote ``cdk_out``'s pending entries into their locks when ``outputs_file`` shows their deploy succeeded.

    Returns one line per entry recorded. Raises ``ValueError`` naming what is missing (nothing is written then)."""
    pending_path = Path(cdk_out) / PENDING_FILE
    if not pending_path.exists():
        raise ValueError(f"{pending_path} not found: run `cdk deploy --all` (which synthesizes into {cdk_out}) first")
    if not Path(outputs_file).exists():
        raise ValueError(f"{outputs_file} not found: deploy with `--outputs-file {outputs_file}` (cdk.json's "
                         "outputsFile does it for every deploy)")
    if Path(outputs_file).stat().st_mtime < pending_path.stat().st_mtime:
        raise ValueError(f"{pending_path} is newer than {outputs_file}: the app was synthesized again after the "
                         "deploy, so cdk.out may not be what was deployed; record right after `cdk deploy --all`")
    outputs = json.loads(Path(outputs_file).read_text())
    pendings = json.loads(pending_path.read_text())["pending"]
    problems = []
    for pending in pendings:
        key = pending["entry"]["key"]
        for stack, expected in sorted(pending["expect"].items()):
            if stack not in outputs:
                problems.append(f"{key}: stack {stack} is not in {outputs_file} (not deployed by that run, or it "
                                "failed)")
                continue
            for output, value in sorted(expected.items()):
                got = outputs[stack].get(output)
                if got is None or (value is not None and got != value):
                    problems.append(f"{key}: {stack} output {output} is {got!r}, this synth expects {value!r}")
    if problems:
        raise ValueError("nothing recorded, the deploy did not complete as synthesized:\n  " + "\n  ".join(problems))
    lines = []
    for pending in pendings:
        data = pending["entry"]
        write_entry(Path(pending["lock"]), LockEntry(data["key"], data["create_only"], data["config"],
                                                     dict(data["state"]), tuple(data["stacks"])))
        lines.append(f"recorded {data['key']} in {pending['lock']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mrap_constructs.lock",
        description="Record what `cdk deploy --all` deployed into the lock (run right after a deploy that succeeded).")
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="promote cdk.out's pending entry once the outputs file shows the deploy")
    rec.add_argument("--cdk-out", default="cdk.out", help="the cloud assembly the deploy used (default: cdk.out)")
    rec.add_argument("--outputs-file", default=DEFAULT_OUTPUTS_FILE,
                     help=f"the deploy's outputs file (default: {DEFAULT_OUTPUTS_FILE})")
    args = parser.parse_args(argv)
    try:
        lines = record(Path(args.cdk_out), Path(args.outputs_file))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
