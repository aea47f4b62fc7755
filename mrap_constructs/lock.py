"""The immutability guard: refuse a synth that would replace a deployed MRAP, unless explicitly allowed.

An MRAP's name, Regions (buckets) and public-access block are create-only. Changing one makes CloudFormation
create a new MRAP — new alias, new ARN, every client broken — and creating it fails while the old one with the
same name exists. "What is deployed" is known offline from a lock file committed next to the config
(``mrap.lock.json`` for ``cdk.json``, ``FILE.lock.json`` for ``-c config=FILE.json``): it records those
properties when first synthesized and is compared at every synth after that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: 2: written by releases that give a one-Region MRAP no replication stack (releases writing 1 gave it one).
LOCK_VERSION = 2
DEFAULT_LOCK_FILE = "mrap.lock.json"


class ReplacementError(ValueError):
    """The config would replace an existing MRAP and ``allow_replacement`` is not set."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LockResult:
    """What the guard did: ``"created"``, ``"unchanged"``, ``"upgraded"`` (an older lock rewritten at this version)
    or ``"replaced"``; the lock file; the Regions a replacement dropped (their stacks left the app but stay deployed);
    and the lock as it was read: its version and Regions (None and empty when there was none)."""

    action: str
    path: Path
    removed_regions: tuple[str, ...] = ()
    read_version: int | None = None
    previous_regions: tuple[str, ...] = ()


def lock_path_for(config_file: str | None, lock_file: str | None = None) -> Path:
    """The lock file: ``lock_file`` if set, else next to the config file, else ``mrap.lock.json``."""
    if lock_file:
        return Path(lock_file)
    if config_file:
        path = Path(config_file)
        return path.with_name(f"{path.stem}.lock.json")
    return Path(DEFAULT_LOCK_FILE)


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


def enforce_lock(path: Path, current: dict, *, allow_replacement: bool) -> LockResult:
    """Compare ``current`` create-only properties with the lock at ``path``; write the lock when it is new.

    Raises:
        ReplacementError: the properties differ and ``allow_replacement`` is False.
    """
    if not path.exists():
        _write(path, current)
        return LockResult("created", path)
    lock = json.loads(path.read_text())
    locked = lock.get("create_only", {})
    read = {"read_version": lock.get("version", 1), "previous_regions": tuple(sorted(locked.get("Regions") or {}))}
    if not isinstance(read["read_version"], int) or read["read_version"] > LOCK_VERSION:
        raise ValueError(f"{path}: lock version {read['read_version']!r} is not one this release reads (1 to "
                         f"{LOCK_VERSION}); it was written by a newer release of mrap: upgrade mrap, do not edit the "
                         "lock")
    changes = replacement_changes(locked, current)
    if not changes:
        if read["read_version"] == LOCK_VERSION:
            return LockResult("unchanged", path, **read)
        _write(path, current)
        return LockResult("upgraded", path, **read)
    if not allow_replacement:
        name = locked.get("Name")
        raise ReplacementError(
            [f"mrap: this change replaces the Multi-Region Access Point {name!r} recorded in {path}:"]
            + [f"  {change}" for change in changes]
            + ["  A replacement gets a new alias and ARN: every client and policy using the old alias breaks, and "
               "CloudFormation cannot create the new MRAP while the old one with the same name exists.",
               "  If this is intended, set \"allow_replacement\": true for this deploy (the lock file is then "
               "rewritten), or revert the change."]
        )
    _write(path, current)
    removed = sorted(set(read["previous_regions"]) - set(current.get("Regions") or {}))
    return LockResult("replaced", path, tuple(removed), **read)


def _write(path: Path, current: dict) -> None:
    path.write_text(json.dumps({"version": LOCK_VERSION, "create_only": current}, indent=2, sort_keys=True) + "\n")
