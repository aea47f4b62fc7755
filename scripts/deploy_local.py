"""`make deploy-local`: the main job without an AWS account — deploy the app to a local emulator and show it.

Starts the emulator (moto on 127.0.0.1), bootstraps every account/Region pair the app uses (each account with its own
credentials; accounts other than the deploying one trust it), runs `cdk deploy --all`, reads the result back with
boto3, prints a summary, and stops the emulator (or keeps it running with --keep). A failure ends with one line,
`error: STACK: CAUSE`, and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mrap_constructs.testing import cfn_models  # noqa: E402
from mrap_constructs.testing.emulator import LocalAws  # noqa: E402
from mrap_constructs.testing.local_deploy import DeployError, LocalDeployment  # noqa: E402
from stacks.config import ConfigError, MrapConfig, load_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="a config file (default: the `mrap` context of cdk.json)")
    parser.add_argument("--keep", action="store_true", help="keep the emulator running until Ctrl-C")
    args = parser.parse_args()
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    try:
        config = load_config({"mrap": context.get("mrap"), "config": args.config})
    except ConfigError as err:
        print("\n".join(f"error: {line}" for line in err.problems), file=sys.stderr)
        return 1
    try:
        return _deploy(config, args)
    except DeployError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


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
        deployed = deployment.inspect(config.name)
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
        print("not emulated (created nothing, so not verified here): " + ", ".join(sorted(cfn_models.SKIPPED_TYPES)))
        if args.keep:
            print("\nThe emulator keeps running. Point the AWS CLI, boto3 or `mrap` at it:\n"
                  + "\n".join(f"  {line}" for line in keep_commands(aws.endpoint_url, account, config.name,
                                                                      aws.credentials(account)))
                  + "\nCtrl-C stops it.", flush=True)
            from mrap_constructs.testing.dataplane import LocalDataPlane

            with LocalDataPlane(aws, client_region=config.regions[0]) as dataplane:
                print("\nThe MRAP data plane (SigV4A, dial routing, live replication) is up. A program written for AWS "
                      "reaches it unchanged with these lines in its environment (HTTPS_PROXY's user name is the client "
                      "Region):\n" + "\n".join(dataplane.export_lines()), flush=True)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
        return 1 if problems else 0


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


def keep_commands(endpoint_url: str, account: str, name: str, credentials: dict[str, str] | None = None) -> list[str]:
    """Shell lines that work as printed against the running emulator (``tests/ops/test_deploy_local_script.py``).

    s3control endpoints put the account in front of the host (``123456789012.127.0.0.1``, which does not resolve,
    and no setting turns that off: it comes from the endpoint rules, not host-prefix injection), so the AWS CLI line
    sends its requests through ``HTTP_PROXY``, which the emulator answers too. ``mrap`` strips the prefix itself.

    ``credentials`` (``LocalAws.credentials(account)``) act in ``account``. Default: ``testing``, the default
    account."""
    keys = credentials or {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return [
        f"export AWS_ENDPOINT_URL={endpoint_url} " + " ".join(f"{k}={v}" for k, v in keys.items())
        + " AWS_DEFAULT_REGION=us-east-1",
        f"HTTP_PROXY={endpoint_url} aws s3control get-multi-region-access-point --account-id {account} "
        f"--name {name} --region us-west-2",
        f".venv/bin/python -m mrap_runtime.cli status {name}",
        f".venv/bin/python -m mrap_runtime.cli failover {name} --to REGION --wait",
    ]


if __name__ == "__main__":
    sys.exit(main())
