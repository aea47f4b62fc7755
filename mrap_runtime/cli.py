"""``mrap``: operate a deployed Multi-Region Access Point (status, routes, failover, backfill, activate, smoke test).

Human output by default, ``--json`` for scripts. AWS errors end the command with exit code 1 and one line,
``error: CODE: message`` — no traceback. ``failover`` and ``activate`` check the target's replication backlog (and,
for ``activate``, its backfill jobs) first and refuse, exit code 1, unless ``--force``. Control-plane calls go to
us-west-2, routes calls to a Region that serves the routes API (``--region`` picks one), bucket, Batch Operations and
CloudWatch calls to each bucket's Region. ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``) sends every call to one
endpoint instead: the emulator of ``make deploy-local KEEP=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError

from mrap_runtime.client import ACTIVE, MrapClient, MrapError, MrapInfo, Route, failover_dials
from mrap_runtime.regions import SUPPORTED_REGIONS, suggest_region
from mrap_runtime.smoke import require_global_endpoint, smoke


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mrap", description=__doc__.splitlines()[0])
    parser.add_argument("--account", help="account that owns the MRAP (default: the caller's, from STS)")
    parser.add_argument("--profile", help="AWS named profile (default: the environment's credentials)")
    parser.add_argument("--region", help="Region for the routes API: us-east-1, us-west-2, ap-southeast-2, "
                                         "ap-northeast-1 or eu-west-1 (default: one of the MRAP's own)")
    parser.add_argument("--endpoint-url", metavar="URL",
                        help="send every call to this endpoint, e.g. the emulator of `make deploy-local KEEP=1` "
                             "(default: $AWS_ENDPOINT_URL, else AWS)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    commands = parser.add_subparsers(dest="command", required=True)

    status = commands.add_parser("status", help="MRAP details, policy, routes and per-bucket replication")
    status.add_argument("name")
    routes = commands.add_parser("routes", help="the routing dials (100 active, 0 passive)")
    routes.add_argument("name")
    failover = commands.add_parser("failover", help="make one Region (or several) the only active ones")
    failover.add_argument("name")
    target = failover.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="REGION", help="the Region that takes all traffic")
    target.add_argument("--active", metavar="A,B", help="comma-separated Regions that take traffic")
    failover.add_argument("--wait", action="store_true", help="wait until AWS applies the dials (~2 minutes)")
    failover.add_argument("--timeout", type=float, default=300, help="seconds to wait (default 300)")
    failover.add_argument("--force", action="store_true",
                          help="switch even when the target's replication backlog is not empty or cannot be read "
                               "(data written to the old Region and not yet replicated is not readable there until "
                               "it arrives)")
    backfill = commands.add_parser("backfill", help="the backfill jobs (S3 Batch Replication) and the backlog")
    backfill_commands = backfill.add_subparsers(dest="backfill_command", required=True)
    backfill_status = backfill_commands.add_parser("status", help="each job's progress and each Region's backlog")
    backfill_status.add_argument("name")
    activate = commands.add_parser("activate", help="set a Region active once its backfill completed and its "
                                                    "backlog is empty")
    activate.add_argument("name")
    activate.add_argument("--region", dest="target", metavar="REGION", required=True, help="the Region to activate")
    activate.add_argument("--wait", action="store_true",
                          help="wait until the Region is in sync, then until AWS applies the dial")
    activate.add_argument("--force", action="store_true", help="activate without checking the backfill and backlog")
    activate.add_argument("--timeout", type=float, default=3600, help="seconds to wait (default 3600)")
    activate.add_argument("--interval", type=float, default=60, help="seconds between checks (default 60)")
    smoke_cmd = commands.add_parser("smoke", help="PUT/GET through the MRAP, time replication to every bucket")
    smoke_cmd.add_argument("name")
    smoke_cmd.add_argument("--timeout", type=float, default=900, help="seconds to wait for replication (default 900)")
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None,
         client: MrapClient | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 AWS or usage error, 2 bad arguments)."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        client = client or MrapClient(
            args.account,
            session=boto3.Session(profile_name=args.profile) if args.profile else None,
            routes_region=args.region,
            # The local data plane's block sets both (MRAP_EMULATOR_ENDPOINT_URL since before it set AWS_ENDPOINT_URL).
            endpoint_url=(args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
                          or os.environ.get("MRAP_EMULATOR_ENDPOINT_URL") or None),
        )
        result = COMMANDS[args.command](client, args)
    except MrapError as error:
        print(f"error: {error}", file=err)
        return 1
    except BotoCoreError as error:  # e.g. a profile that does not exist
        print(f"error: {type(error).__name__}: {error}", file=err)
        return 1
    payload, text, code = result
    print(json.dumps(payload, indent=2, default=str) if args.json else text, file=out)
    return code


def _status(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    info = client.describe(args.name)
    policy = client.policy_status(args.name)
    try:
        routes: list[Route] | None = client.routes(info)
        routes_error = None
    except MrapError as error:
        routes, routes_error = None, str(error)
    dials = {r.region: r.dial for r in routes or []}
    buckets = []
    for region, bucket in sorted(info.buckets.items()):
        try:
            owner = client.owner(info, region)
            replication = client.replication(region, bucket, owner)
            versioning = client.versioning(region, bucket, owner)
        except MrapError as error:
            replication, versioning = None, f"unknown ({error.code})"
        rules = (replication or {}).get("Rules", [])
        buckets.append({
            "region": region, "bucket": bucket, "dial": dials.get(region), "versioning": versioning,
            "replication_rules": [{"id": r.get("ID"), "status": r.get("Status"),
                                   "destination": r.get("Destination", {}).get("Bucket")} for r in rules],
        })
    payload = {**_info(info), "policy": policy, "routes_error": routes_error, "buckets": buckets}
    policy_text = ("no policy" if policy["established"] is None
                   else "public" if policy["is_public"] else "established, not public")
    lines = _info_lines(info) + [f"{'Policy':<10}{policy_text}"]
    if routes_error:
        lines.append(f"{'Routes':<10}unavailable ({routes_error})")
    lines += ["", f"{'REGION':<16}{'BUCKET':<46}{'DIAL':>5}  {'VERSIONING':<11}REPLICATION"]
    region_of = {bucket: region for region, bucket in info.buckets.items()}
    for b in buckets:
        enabled = [r for r in b["replication_rules"] if r["status"] == "Enabled"]
        targets = [(r["destination"] or "").rsplit(":", 1)[-1] for r in enabled]
        repl = f"{len(enabled)} rules -> " + ", ".join(region_of.get(t, t) for t in targets) if enabled else "none"
        dial = "-" if b["dial"] is None else str(b["dial"])
        lines.append(f"{b['region']:<16}{b['bucket']:<46}{dial:>5}  {b['versioning']:<11}{repl}")
    unversioned = [b["region"] for b in buckets if b["versioning"] != "Enabled"]
    healthy = info.status == "READY" and not unversioned and not policy["is_public"]
    if unversioned:
        lines.append(f"warning: versioning is not enabled in {', '.join(unversioned)}; replication needs it")
    return payload, "\n".join(lines), 0 if healthy else 1


def _routes(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    info = client.describe(args.name)
    routes = client.routes(info)
    return ({"name": info.name, "routes": [r.__dict__ for r in routes]},
            _routes_text(routes), 0)


def _failover(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    info = client.describe(args.name)
    active = [args.to] if args.to else [r.strip() for r in args.active.split(",") if r.strip()]
    outside = [r for r in active if r not in info.buckets]
    if outside or not active:
        raise MrapError("InvalidRegion", f"{', '.join(outside) or 'no Region'} is not a Region of MRAP {info.name} "
                                         f"(Regions: {', '.join(info.regions)}); refusing to fail over")
    dials = failover_dials(info.regions, active)
    backlogs = [client.backlog(info, region) for region in active]
    behind = [b for b in backlogs if not b.in_sync]
    facts = [b.to_dict() for b in backlogs]
    if behind and not args.force:
        message = (f"refusing to fail over to {', '.join(active)}: " + "; ".join(b.describe() for b in behind)
                   + "; --force to switch anyway")
        if args.json:
            return {"name": info.name, "refused": True, "reason": message, "backlog": facts}, message, 1
        raise MrapError("TargetBehind", message)
    client.submit_routes(info, dials)
    if not args.wait:
        return ({"name": info.name, "submitted": dials, "applied": None, "backlog": facts},
                f"submitted: {_dials_text(dials)} (AWS applies it within ~2 minutes; `mrap routes {info.name}`)", 0)
    routes = client.wait_for_routes(info, dials, timeout=args.timeout)
    return ({"name": info.name, "submitted": dials, "applied": [r.__dict__ for r in routes], "backlog": facts},
            "applied:\n" + _routes_text(routes), 0)


def _backfill(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    info = client.describe(args.name)
    jobs = client.backfill_jobs(info)
    backlogs = [client.backlog(info, region) for region in info.regions]
    lines = [f"{'SOURCE':<16}{'JOB':<40}{'STATUS':<11}{'DONE':>12}{'FAILED':>8}  KEY"]
    lines += [f"{j.region:<16}{j.job_id:<40}{j.status:<11}{f'{j.succeeded}/{j.total}':>12}{j.failed:>8}  {j.key}"
              for j in jobs] or ["(no backfill jobs)"]
    lines += ["", "backlog per destination (OperationsPendingReplication, BytesPendingReplication):"]
    lines += [f"  {b.describe()}" for b in backlogs]
    healthy = all(j.done for j in jobs) and all(b.in_sync for b in backlogs)
    return ({"name": info.name, "jobs": [j.to_dict() for j in jobs], "backlog": [b.to_dict() for b in backlogs]},
            "\n".join(lines), 0 if healthy else 1)


def _activate(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    region = args.target
    if region not in SUPPORTED_REGIONS:
        raise MrapError("InvalidRegion", f"{region} is not an AWS Region with MRAP support{suggest_region(region)}")
    info = client.describe(args.name)
    if region not in info.buckets:
        raise MrapError("InvalidRegion", f"{region} is not a Region of MRAP {info.name} "
                                         f"(Regions: {', '.join(info.regions)})")
    problems: list[str] = []
    if not args.force:
        deadline = client.clock() + args.timeout
        while problems := client.activation_problems(info, region):
            if not args.wait or client.clock() + args.interval > deadline:
                raise MrapError("NotInSync", f"refusing to activate {region}: " + "; ".join(problems)
                                + ("" if not args.wait else f" (after waiting {args.timeout:.0f}s)")
                                + "; --force to activate anyway")
            client.sleep(args.interval)
    client.submit_routes(info, {region: ACTIVE})
    payload = {"name": info.name, "region": region, "submitted": {region: ACTIVE}, "forced": args.force}
    if not args.wait:
        return payload, f"submitted: {region}={ACTIVE} (AWS applies it within ~2 minutes; `mrap routes {info.name}`)", 0
    routes = client.wait_for_routes(info, {region: ACTIVE}, timeout=args.timeout)
    return {**payload, "applied": [r.__dict__ for r in routes]}, "applied:\n" + _routes_text(routes), 0


def _smoke(client: MrapClient, args: argparse.Namespace) -> tuple[Any, str, int]:
    require_global_endpoint(client)  # before any call: say what is missing, not what failed
    info = client.describe(args.name)
    result = smoke(client, info, timeout=args.timeout)
    lines = [f"PUT/GET through {info.alias}: {'ok' if result.read_back else 'MISMATCH'}", "replication lag:"]
    for region, lag in sorted(result.lag_seconds.items()):
        lines.append(f"  {region:<16}{'not arrived' if lag is None else f'{lag:.1f} s'}")
    lines.append(f"cleaned up: {'yes' if result.cleaned_up else 'NO (delete ' + result.key + ' by hand)'}")
    return result.to_dict(), "\n".join(lines), 0 if result.ok else 1


COMMANDS = {"status": _status, "routes": _routes, "failover": _failover, "smoke": _smoke, "backfill": _backfill,
            "activate": _activate}


def _info(info: MrapInfo) -> dict[str, Any]:
    return {"name": info.name, "alias": info.alias, "arn": info.arn, "hostname": info.hostname,
            "status": info.status, "created_at": info.created_at, "regions": info.regions,
            "public_access_block": info.public_access_block}


def _info_lines(info: MrapInfo) -> list[str]:
    return [f"{'MRAP':<10}{info.name}", f"{'Alias':<10}{info.alias}", f"{'Hostname':<10}{info.hostname}",
            f"{'ARN':<10}{info.arn}", f"{'Status':<10}{info.status} (created {info.created_at})"]


def _routes_text(routes: list[Route]) -> str:
    lines = [f"{'REGION':<16}{'BUCKET':<46}{'DIAL':>5}  STATE"]
    lines += [f"{r.region:<16}{r.bucket:<46}{r.dial:>5}  {'active' if r.active else 'passive'}" for r in routes]
    return "\n".join(lines)


def _dials_text(dials: dict[str, int]) -> str:
    return ", ".join(f"{region}={dial}" for region, dial in sorted(dials.items()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
