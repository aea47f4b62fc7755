#!/usr/bin/env python3
"""The mrap CDK app: read the config, check it against what is deployed, build the stacks, synthesize."""

import sys
from pathlib import Path

import aws_cdk as cdk

from mrap_constructs.lock import (
    ADOPT_CONTEXT_KEY,
    DEFAULT_OUTPUTS_FILE,
    LockEntry,
    ReplacementError,
    enforce_lock,
    lock_path_for,
    read_lock,
    write_entry,
    write_pending,
)
from stacks.app_builder import APP_CONTEXT, build_app, orphaned_stack_commands
from stacks.config import CONFIG_FILE_CONTEXT_KEY, CONTEXT_KEY, ConfigError, default_account, load_config
from stacks.day2 import guard, pending_for, retire_commands
from stacks.pipeline_stack import build_pipeline


def main() -> int:
    app = cdk.App(context=APP_CONTEXT)
    context = {key: app.node.try_get_context(key) for key in (CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY)}
    adopt = app.node.try_get_context(ADOPT_CONTEXT_KEY) == "adopt"
    notes: list[str] = []
    try:
        config = load_config(context)
        lock_path = lock_path_for(context[CONFIG_FILE_CONTEXT_KEY], config.lock_file)
        entries = read_lock(lock_path)
        guard_args = {"entries": entries, "lock_path": lock_path, "outputs_file": Path(DEFAULT_OUTPUTS_FILE),
                      "config_file": context[CONFIG_FILE_CONTEXT_KEY]}
        if config.pipeline:  # the many-accounts path: a pipeline deploys the stacks (stacks/pipeline_stack.py)
            accounts = sorted(set(config.pipeline.accounts))
            guarded = {} if adopt else {
                a: guard(config.model_copy(update={"account": a}), account=a, pipeline=True, **guard_args)
                for a in accounts}
            pipeline = build_pipeline(app, config, overrides={a: g.verdict.props for a, g in guarded.items()})
            for stage in pipeline.stages:
                account = stage.account
                create_only = stage.deployment.access_point.create_only_properties()
                if adopt:
                    _adopt(stage.deployment, lock_path, account, create_only, notes)
                else:
                    enforce_lock(lock_path, create_only, allow_replacement=config.allow_replacement,
                                 entry=guarded[account].entry, read=False)
                    notes += guarded[account].verdict.notes
            _print(notes)
            app.synth()
            return 0
        account = default_account(config)
        guarded = None if adopt else guard(config, account=account, **guard_args)
        deployment = build_app(app, config, overrides=guarded.verdict.props if guarded else None)
        create_only = deployment.access_point.create_only_properties()
        if adopt:
            _adopt(deployment, lock_path, account, create_only, notes)
            _print(notes)
            app.synth()
            return 0
        lock = enforce_lock(lock_path, create_only, allow_replacement=config.allow_replacement,
                            entry=guarded.entry, read=False)
    except (ConfigError, ReplacementError) as err:
        print("\n".join(f"error: {line}" for line in err.problems), file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    notes += guarded.verdict.notes
    if lock.action == "new":
        notes.append(f"{guarded.key} is not in {lock.path}: a first deploy. After `cdk deploy --all` succeeds, run "
                     f"`python -m mrap_constructs.lock record` and commit {lock.path}")
    elif lock.read_version is not None and lock.read_version < 3:
        notes.append(f"{lock.path} was written by an earlier release (the create-only properties as last "
                     "synthesized): after this deploy succeeds, run `python -m mrap_constructs.lock record` so it "
                     "records what is deployed")
    elif guarded.verdict.changed or lock.action == "replaced" or guarded.verdict.state != guarded.entry.state:
        notes.append(f"after `cdk deploy --all` succeeds, run `python -m mrap_constructs.lock record` and commit "
                     f"{lock.path} (it records what is deployed)")
    retire = retire_commands(lock.entry.create_only.get("Name") if lock.entry else None, config, account)
    orphaned = orphaned_stack_commands(config, lock)
    if orphaned:
        why = (f"{', '.join(lock.removed_regions)} left the MRAP" if lock.removed_regions
               else "a one-Region MRAP replicates nowhere and no longer gets a replication stack")
        # Under blue/green the old MRAP still routes to the removed Regions' buckets until it is deleted.
        when = "once the old MRAP is deleted (below)" if retire else "once this deploy is done"
        notes.append(f"{why}. The stacks that left the app stay deployed (the CDK CLI never deletes them); {when}, "
                     "delete them in their accounts:")
        notes += [f"  {command}" for command in orphaned]
    if retire:
        notes.append(f"blue/green: the new MRAP {config.effective_access_point_name!r} is created beside "
                     f"{lock.entry.create_only.get('Name')!r}, which stays (and keeps serving its clients). Move every "
                     "client to the new alias (output MrapAlias of the access-point stack), then delete the old MRAP:")
        notes += [f"  {command}" for command in retire]
    _print(notes)
    app.synth()
    write_pending(app.outdir, [pending_for(deployment, config, guarded, lock.path, create_only)])
    return 0


def _adopt(deployment, lock_path: Path, account: str | None, create_only: dict, notes: list[str]) -> None:
    """``-c mrap_lock=adopt``: record this config as what is deployed (recreating a lost or missing entry)."""
    from mrap_constructs.lock import lock_key
    from stacks.day2 import check

    config = deployment.config
    state = check(None, config).state
    key = lock_key(config.name, account)
    write_entry(lock_path, LockEntry(key, create_only, config.model_dump(mode="json"), state,
                                     tuple(sorted(s.stack_name for s in deployment.stacks))))
    notes.append(f"adopted: {lock_path} records this config as deployed for {key}; commit it")


def _print(notes: list[str]) -> None:
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
