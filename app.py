#!/usr/bin/env python3
"""The mrap CDK app: read the config, build the stacks, synthesize. Nothing else lives here."""

import sys

import aws_cdk as cdk

from stacks.app_builder import build_app
from stacks.config import CONFIG_FILE_CONTEXT_KEY, CONTEXT_KEY, ConfigError, load_config


def main() -> int:
    app = cdk.App()
    context = {key: app.node.try_get_context(key) for key in (CONTEXT_KEY, CONFIG_FILE_CONTEXT_KEY)}
    try:
        build_app(app, load_config(context))
    except ConfigError as err:
        print("\n".join(f"error: {line}" for line in err.problems), file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
