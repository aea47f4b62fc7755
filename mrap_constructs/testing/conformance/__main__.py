"""``python -m mrap_constructs.testing.conformance --target emulator|aws|URL``: score a target, update the table.

- ``emulator`` (default): this project's emulator and data plane, in-process on 127.0.0.1; no credentials.
- ``aws``: the account of the environment's credentials. Refused unless ``MRAP_CONFORMANCE_AWS=1``; prints what it
  will create and an estimate of the cost first, creates a short-lived MRAP and buckets under a random
  ``mrapconf-`` prefix, and deletes all of it at the end (also after a failure or Ctrl-C).
- ``http(s)://HOST:PORT``: another emulator's endpoint (``--name`` labels its column).

With ``--write PATH`` (``docs/conformance.md``), the results are kept in ``PATH`` with a ``.json`` beside it and
the table is rewritten with every target's latest column. Exit status: 0 when no case failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mrap_constructs.testing.conformance import runner
from mrap_constructs.testing.conformance.cases import CASES
from mrap_constructs.testing.conformance.targets import AwsTarget, EmulatorTarget, EndpointTarget, Target
from mrap_constructs.testing.conformance.world import World

OPT_IN = "MRAP_CONFORMANCE_AWS"
COLUMN_ORDER = ["emulator", "ministack", "aws"]

#: What one run on AWS costs at most, with the assumptions (S3 and CloudWatch price lists, us-east-1, 2026).
AWS_COST = [
    "Multi-Region Access Point: no charge for the access point; data routing $0.0033/GB (a few KB here)",
    "S3 requests: about 400 PUT/COPY/LIST ($0.005 per 1,000) and 300 GET ($0.0004 per 1,000): < $0.01",
    "replication: a few KB between us-east-1 and eu-west-1 ($0.02/GB): < $0.01",
    "replication metrics: 8 CloudWatch metrics for about an hour ($0.30 per metric-month, prorated): < $0.01",
    "one object of a few bytes in GLACIER, deleted at once (90-day minimum of 40 KB + 8 KB overhead): < $0.01",
    "the control-plane calls (S3 Control, IAM, STS) are free",
    "total: well under $0.05 for one run (plus your account's minimums, if any)",
]


def make_target(args: argparse.Namespace) -> Target:
    if args.target == "emulator":
        return EmulatorTarget(client_region=args.client_region or "eu-west-1")
    if args.target == "aws":
        return AwsTarget(client_region=args.client_region, other_profile=args.other_profile)
    return EndpointTarget(args.target, name=args.name, client_region=args.client_region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mrap_constructs.testing.conformance", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default="emulator", help="emulator (default), aws, or an endpoint URL")
    parser.add_argument("--name", help="the column name of an endpoint target (default: its URL)")
    parser.add_argument("--client-region", help="the Region requests come from (emulator: set; AWS: where you "
                                                "run, if it is us-east-1 or eu-west-1)")
    parser.add_argument("--other-profile", help="AWS: a profile of a second account, for the cross-account cases")
    parser.add_argument("--case", action="append", default=[], help="run only cases whose id starts with this")
    parser.add_argument("--write", type=Path, help="update this results table (e.g. docs/conformance.md)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)

    cases = [c for c in CASES if not args.case or any(c.id.startswith(p) for p in args.case)]
    if args.list:
        for case in cases:
            print(f"{case.id:55} {case.source.split('; ')[0]}")
        return 0
    if args.target == "aws":
        if os.environ.get(OPT_IN) != "1":
            print(f"Refusing to run against AWS without {OPT_IN}=1 in the environment (it creates and deletes "
                  "real resources in your account).", file=sys.stderr)
            return 2
    target = make_target(args)
    if args.target == "aws":
        plan = World(target)
        print(f"Will create in account {target.account} (everything named {plan.prefix}*, deleted at the end):")
        for line in plan.plan():
            print(f"  - {line}")
        print("Estimated cost:")
        for line in AWS_COST:
            print(f"  - {line}")
        world = plan
    else:
        world = None
    print(f"Scoring {target.describe()} with {len(cases)} cases", flush=True)
    results = runner.run(target, cases, world=None, progress=True) if world is None else _run_owned(target, cases,
                                                                                                    world)
    print(f"{target.name}: {runner.score(results)}")
    if args.write:
        store = args.write.with_suffix(".json")
        data = runner.save(store, target.name, results)
        args.write.write_text(runner.table(data, COLUMN_ORDER))
        print(f"wrote {args.write} and {store}")
    return 1 if any(r.outcome == "fail" for r in results) else 0


def _run_owned(target: Target, cases: list, world: World) -> list:
    """AWS: create the planned world, run, and delete it in any case (Ctrl-C included)."""
    target.start()
    try:
        world.create()
        return runner.run(target, cases, world=world, progress=True)
    finally:
        problems = world.delete()
        print("deleted everything the run made" if not problems else
              "could NOT delete (remove by hand):\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    raise SystemExit(main())
