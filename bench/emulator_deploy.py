"""Emulator deploy time vs Regions: `cdk bootstrap` and `cdk deploy --all` of the project's default config (full
mesh, monitoring on) on the local emulator, for 1, 3 and 17 Regions — so a regression in deploy parallelism shows.

Each N deploys into its own account on one emulator (no reset between them), with the CLI's ``--concurrency 8``.
Run alone (``python bench/emulator_deploy.py``) it measures and splices its section into BENCHMARKS.md; ``run.py``
adds the same section when it regenerates the whole file.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ORDER, project_config, write_section  # noqa: E402

NS = [int(n) for n in os.environ.get("BENCH_DEPLOY_NS", "1,3,17").split(",")]
CONCURRENCY = 8
TITLE = "## Emulator deploy vs Regions (full mesh, monitoring on)"


def measure(ns: list[int] = NS) -> dict[int, dict[str, float]]:
    """{N: {"synth", "bootstrap", "deploy"} seconds}, each N in its own account of one emulator."""
    from mrap_constructs.testing.emulator import LocalAws
    from mrap_constructs.testing.local_deploy import LocalDeployment

    results: dict[int, dict[str, float]] = {}
    with LocalAws() as aws, tempfile.TemporaryDirectory() as tmp:
        aws.reset()
        for n in ns:
            account = f"3000000000{n:02d}"
            config = Path(tmp) / f"deploy-{n}.json"
            config.write_text(json.dumps({**project_config(n), "account": account, "name": f"bench-{n}"}))
            deployment = LocalDeployment(aws, project=ROOT, config=str(config), out=io.StringIO(), account=account,
                                         concurrency=CONCURRENCY, assembly_dir=Path(tmp) / f"deploy-{n}.out")
            timings = {}
            for step in ("synth", "bootstrap", "deploy"):
                started = time.perf_counter()
                getattr(deployment, step)()
                timings[step] = time.perf_counter() - started
            results[n] = timings
            print(f"N={n}: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()), flush=True)
    return results


def section(results: dict[int, dict[str, float]]) -> list[str]:
    """The BENCHMARKS.md section for ``results`` (ratios against the smallest N)."""
    base = results[min(results)]
    lines = [TITLE, "",
             f"`cdk bootstrap` and `cdk deploy --all --concurrency {CONCURRENCY}` on the local emulator, one run per N "
             "(each N in its own account); deploy is `cdk deploy` of the synthesized assembly; ratios against N="
             + str(min(results)) + ". Regions in the order of "
             f"`bench/__init__.py` ({', '.join(ORDER[:3])}, ...).", "",
             "| Regions | stacks | synth s | bootstrap s | deploy s | deploy ratio | total s | total ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, t in sorted(results.items()):
        stacks = 1 + (2 * n if n > 1 else 1)  # access point + a bucket stack per Region (+ replication with n > 1)
        total, base_total = sum(t.values()), sum(base.values())
        lines.append(f"| {n} | {stacks} | {t['synth']:.1f} | {t['bootstrap']:.1f} | {t['deploy']:.1f} | "
                     f"{t['deploy'] / base['deploy']:.2f}x | {total:.1f} | {total / base_total:.2f}x |")
    return lines


def main() -> int:
    return write_section(section(measure()))


if __name__ == "__main__":
    sys.exit(main())
