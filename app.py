#!/usr/bin/env python3
"""The mrap CDK app: read the config, build the stacks, synthesize. Nothing else lives here."""

import sys

import aws_cdk as cdk

from mrap_constructs.lock import ReplacementError, enforce_lock, lock_path_for
from stacks.app_builder import APP_CONTEXT, build_app, orphaned_stack_commands
from stacks.config import CONFIG_FILE_CONTEXT_KEY, CONTEXT_KEY, ConfigError, load_config
from stacks.pipeline_stack import build_pipeline


def main() -> int:
    app = cdk.App(context=APP_CONTEXT)
    context = {key: app.node.try_get_context(key) for key in (CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY)}
    try:
        config = load_config(context)
        if config.pipeline:  # the many-accounts path: a pipeline deploys the stacks (stacks/pipeline_stack.py)
            build_pipeline(app, config)
            app.synth()
            return 0
        deployment = build_app(app, config)
        lock = enforce_lock(
            lock_path_for(context[CONFIG_FILE_CONTEXT_KEY], config.lock_file),
            deployment.access_point.create_only_properties(),
            allow_replacement=config.allow_replacement,
        )
    except (ConfigError, ReplacementError) as err:
        print("\n".join(f"error: {line}" for line in err.problems), file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if lock.action != "unchanged":
        print(f"note: {lock.action} {lock.path} (the MRAP's create-only properties); commit it", file=sys.stderr)
    orphaned = orphaned_stack_commands(config, lock)
    if orphaned:
        why = (f"{', '.join(lock.removed_regions)} left the MRAP" if lock.removed_regions
               else "a one-Region MRAP replicates nowhere and no longer gets a replication stack")
        print(f"note: {why}. The stacks that left the app stay deployed (the CDK CLI never deletes them); once this "
              "deploy is done, delete them in their accounts:", file=sys.stderr)
        for command in orphaned:
            print(f"note:   {command}", file=sys.stderr)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
