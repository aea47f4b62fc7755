"""`make bench`: synth cost vs Regions (project / hand-written L1 baseline), the idle monthly cost vs Regions,
template sizes and limits, deploy waves, emulator deploy time vs Regions (``bench/emulator_deploy.py``), the local data
plane's throughput and replication lag (``bench/dataplane.py``), and the test suites' times. Writes BENCHMARKS.md
(regenerated, never hand-edited); exits 1 when a CloudFormation limit is exceeded or a target is missed.

Two measurements of synth, each run RUNS times per N with project and baseline interleaved (so both see the same
machine state; the order alternates between rounds), and the ratio target applies to both:

* build + synth of the app inside one fresh Python process, imports excluded (``bench/synth_once.py``): what the
  construct library costs; also without cdk-nag, to show its share. The 17-Region target applies here;
* ``cdk synth`` as users run it (the pinned CLI, a fresh app process, the project through ``app.py -c config=``,
  the baseline through ``bench/baseline_app.py``): what a user waits for, start-up and CLI included.

A ratio is the median of the per-round ratios (robust to a noisy machine drifting between rounds). The baseline
synthesizes the same templates as the project (tests/unit/test_bench.py compares them property by property), so the
ratio is what the constructs, their validation and cdk-nag cost over writing the same CloudFormation by hand.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import COST_NS, LEAN, dataplane, emulator_deploy, project_config, splice_section  # noqa: E402
from mrap_constructs.cost import PRICES_DATE, estimate_idle_cost  # noqa: E402
from scripts.synth_summary import stack_rows  # noqa: E402

PY = sys.executable
CDK = str(ROOT / "node_modules" / ".bin" / "cdk")
NS = [int(n) for n in os.environ.get("BENCH_NS", "1,2,3,5,9,17").split(",")]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
#: CloudFormation quotas per stack (template body uploaded to S3, resources, outputs).
LIMITS = {"template_bytes": 1_000_000, "resources": 500, "outputs": 200}
#: How `make test` runs the unit suite (Makefile UNIT_TESTS): both cores, each scenario's tests grouped.
UNIT_TESTS = ("-m", "not e2e", "-n", "2", "--dist", "loadgroup")
TARGETS = {"ratio": 1.3, "synth_17_seconds": 10.0, "limit_share": 0.5, "waves": 2, "unit_suite_seconds": 60.0}
#: No network but 127.0.0.1: no version check, notices or telemetry from the CLI.
CLI_ENV = {"CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true",
           "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}


SYNTH_TITLE = "## Synth vs Regions: build + synth inside the app (full mesh, monitoring on, cdk-nag on)"
CLI_TITLE = "## `cdk synth` vs Regions, as users run it"
SUITES_TITLE = "## Test suites"
TARGETS_TITLE = "## Targets"


def cli_synth_seconds(kind: str, n: int, work: Path) -> float:
    """Wall time of ``cdk synth`` for one app; its cloud assembly goes to ``work/{kind}-{n}.out``."""
    if kind == "project":
        config = work / f"{kind}-{n}.json"
        config.write_text(json.dumps(project_config(n)))
        app, context = f"{PY} app.py", ["-c", f"config={config}"]
    else:
        app, context = f"{PY} bench/baseline_app.py {n}", []
    command = [CDK, "synth", "--quiet", "--no-notices", "--app", app, *context, "-o", str(work / f"{kind}-{n}.out")]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env={**os.environ, **CLI_ENV})
    return time.perf_counter() - started


def in_process_seconds(kind: str, n: int, work: Path) -> float:
    """Build + synth inside one fresh Python process, imports excluded (``bench/synth_once.py``)."""
    result = subprocess.run([PY, str(ROOT / "bench" / "synth_once.py"), kind, str(n), str(work / f"in-{kind}-{n}")],
                            cwd=ROOT, capture_output=True, text=True, check=True, env={**os.environ, **CLI_ENV})
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def interleaved(measure: Callable[[str, int, Path], float], kinds: list[str], n: int, work: Path,
                runs: int) -> dict[str, list[float]]:
    """``runs`` rounds of every kind back to back, alternating the order; ``{kind: [seconds per round]}``."""
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for round_ in range(runs):
        for kind in kinds if round_ % 2 == 0 else kinds[::-1]:
            times[kind].append(measure(kind, n, work))
    return times


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def limit_rows(rows: list[dict]) -> tuple[list[str], float, list[str]]:
    """Markdown rows of stacks against CloudFormation limits, the largest share of any limit, and failures."""
    lines, failures, worst = [], [], 0.0
    for row in rows:
        shares = {"bytes": row["bytes"] / LIMITS["template_bytes"], "resources": row["resources"] / LIMITS["resources"],
                  "outputs": row["outputs"] / LIMITS["outputs"]}
        worst = max(worst, *shares.values())
        lines.append(f"| {row['wave']} | {row['stack']} | {row['bytes']:,} | {shares['bytes']:.1%} | "
                     f"{row['resources']} | {shares['resources']:.1%} | {row['outputs']} |")
        if any(share > 1 for share in shares.values()):
            failures.append(f"{row['stack']} exceeds a CloudFormation limit")
    return lines, worst, failures


def synth_config(config: dict, out: Path) -> Path:
    """Synthesize the project's app for ``config`` into ``out`` in this process (no cdk-nag: it adds no resources)."""
    import aws_cdk as cdk

    from bench.synth_once import FLAGS
    from stacks.app_builder import build_app
    from stacks.config import parse_config

    app = cdk.App(context=FLAGS, outdir=str(out))
    build_app(app, parse_config(config), nag=False)
    app.synth()
    return out


def cost_lines(ns: list[int], work: Path, synthesize: Callable[[dict, Path], Path] = synth_config) -> list[str]:
    """The cost section: per N, the default config's idle monthly cost (and its alarm and replication-metric parts),
    its alarms per source against the per-rule alarms of ``monitoring.alarms_per_rule``, and the lean config's."""
    lines = ["## Idle monthly cost vs Regions (full mesh; `mrap_constructs.cost`)", "",
             f"What the synthesized resources bill each month before any data is stored, at us-east-1 list prices of "
             f"{PRICES_DATE} (no free tier). Default: the default config (alarms per source bucket). Per rule: "
             "`monitoring.alarms_per_rule: true`, the same bill (CloudWatch bills each metric of a metric-math alarm) "
             "in 8x the alarms at 17 Regions. Lean: `replication.metrics: false`, `monitoring.alarms: false`, "
             "`monitoring.dashboard: false` (replication runs, nothing watches it). Usage-based items (RTC per GB, "
             "CloudTrail data events, transfer) are not in these sums.", "",
             "| Regions | rules | alarms (default) | alarms (per rule) | alarm metrics (USD) | replication metrics "
             "(USD) | default (USD/month) | lean (USD/month) |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        base = project_config(n)
        default = estimate_idle_cost(synthesize(base, work / f"cost-default-{n}"))
        per_rule = estimate_idle_cost(synthesize({**base, "monitoring": {"alarms_per_rule": True}},
                                                 work / f"cost-per-rule-{n}"))
        lean = estimate_idle_cost(synthesize({**base, **LEAN}, work / f"cost-lean-{n}"))
        parts = {line.item: line.monthly_usd for line in default.lines}
        lines.append(f"| {n} | {n * (n - 1)} | {default.alarms:,} | {per_rule.alarms:,} | "
                     f"{parts.get('CloudWatch alarm metrics', 0):,.2f} | {parts.get('S3 replication metrics', 0):,.2f} "
                     f"| {default.monthly_usd:,.2f} | {lean.monthly_usd:,.2f} |")
    return lines


def suite_seconds(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def synth_sections(ns: list[int]) -> tuple[list[str], list[str], dict[int, list[dict]]]:
    """The two synth tables (inside the app; ``cdk synth`` as users run it) for ``ns``, the stacks of each N's
    project assembly (``target_failures`` reads the verdict from the tables)."""
    lib_lines = [SYNTH_TITLE, "",
                 "Fresh Python process per run, imports and the first call into aws-cdk-lib excluded for both apps "
                 "(`bench/synth_once.py`). The project also without cdk-nag, to show what the three packs "
                 "(AwsSolutions, NIST 800-53 R5, HIPAA) cost.", "",
                 "| Regions | project (s) | L1 baseline (s) | project / baseline | project without cdk-nag (s) "
                 "| without cdk-nag / baseline |", "|---:|---:|---:|---:|---:|---:|"]
    cli_lines = [CLI_TITLE, "",
                 "The CDK CLI starts the app (`app.py -c config=…`, or `bench/baseline_app.py N`), the app synthesizes "
                 "every stack, the CLI reads the assembly.", "",
                 "| Regions | project (s) | L1 baseline (s) | project / baseline |", "|---:|---:|---:|---:|"]
    tables: dict[int, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for n in ns:
            lib = interleaved(in_process_seconds, ["project", "baseline", "project-no-nag"], n, work, RUNS)
            p, b = statistics.median(lib["project"]), statistics.median(lib["baseline"])
            ratio = paired_ratio(lib["project"], lib["baseline"])
            lib_lines.append(f"| {n} | {p:.2f} | {b:.2f} | {ratio:.2f}x | {statistics.median(lib['project-no-nag']):.2f}"
                             f" | {paired_ratio(lib['project-no-nag'], lib['baseline']):.2f}x |")

            cli = interleaved(cli_synth_seconds, ["project", "baseline"], n, work, RUNS)
            cli_ratio = paired_ratio(cli["project"], cli["baseline"])
            cli_lines.append(f"| {n} | {statistics.median(cli['project']):.2f} | "
                             f"{statistics.median(cli['baseline']):.2f} | {cli_ratio:.2f}x |")
            tables[n] = stack_rows(work / f"project-{n}.out")
            print(f"N={n}: {lib_lines[-1]} cdk synth {cli_ratio:.2f}x", flush=True)
    return lib_lines, cli_lines, tables


def _section(markdown: str, title: str) -> str:
    """The body of the section of ``markdown`` whose heading starts with ``title`` ('' if there is none)."""
    found = re.search(r"^" + re.escape(title) + r".*?\n(.*?)(?=\n## |\Z)", markdown, re.S | re.M)
    return found.group(1) if found else ""


def _rows(markdown: str, title: str) -> list[list[str]]:
    """The cells of the table rows in a section (its header and separator rows left out)."""
    rows = [line for line in _section(markdown, title).splitlines() if line.startswith("| ") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


def target_failures(markdown: str) -> list[str]:
    """The targets BENCHMARKS.md ``markdown`` misses, read from its own tables as published (so a part measured
    alone, ``bench/run.py synth`` or ``suites``, updates the verdict with the rest of the document)."""
    failures = []
    for n, project, _baseline, ratio, *_ in _rows(markdown, SYNTH_TITLE):
        if float(ratio.rstrip("x")) > TARGETS["ratio"]:
            failures.append(f"N={n}: project/baseline {ratio} > {TARGETS['ratio']}x")
        if n == "17" and float(project) > TARGETS["synth_17_seconds"]:
            failures.append(f"17-Region synth {project} s > {TARGETS['synth_17_seconds']} s")
    for n, _project, _baseline, ratio in _rows(markdown, CLI_TITLE):
        if float(ratio.rstrip("x")) > TARGETS["ratio"]:
            failures.append(f"N={n}: cdk synth project/baseline {ratio} > {TARGETS['ratio']}x")
    for _wave, stack, _bytes, byte_share, _resources, resource_share, outputs in _rows(markdown, "## Stacks at "):
        share = max(float(byte_share.rstrip("%")) / 100, float(resource_share.rstrip("%")) / 100,
                    int(outputs) / LIMITS["outputs"])
        if share > TARGETS["limit_share"]:
            failures.append(f"{stack} uses {share:.0%} of a CloudFormation limit (> {TARGETS['limit_share']:.0%})")
    for row in _rows(markdown, "## Deploy waves"):
        failures += [f"{waves} deploy waves" for waves in row[1:] if waves != str(TARGETS["waves"])]
    dataplane_result = re.search(r"Result: missed — (.*)", _section(markdown, dataplane.TITLE))
    if dataplane_result:
        failures.append(f"data plane: {dataplane_result.group(1)}")
    for suite, seconds in _rows(markdown, SUITES_TITLE):
        if suite.startswith("unit") and float(seconds) > TARGETS["unit_suite_seconds"]:
            failures.append(f"unit suite {float(seconds):.0f}s > {TARGETS['unit_suite_seconds']:.0f}s")
    return failures


def targets_section(markdown: str) -> list[str]:
    """The Targets section for ``markdown``: every target, and whether the document meets it."""
    failures = target_failures(markdown)
    return [TARGETS_TITLE, "", f"project/baseline <= {TARGETS['ratio']}x at every N (both measurements); 17-Region "
            f"synth < {TARGETS['synth_17_seconds']:.0f} s (inside the app); no stack above {TARGETS['limit_share']:.0%} "
            f"of a limit; {TARGETS['waves']} deploy waves; unit suite < {TARGETS['unit_suite_seconds']:.0f} s; data "
            f"plane through the MRAP >= {dataplane.TARGETS['throughput_ratio']}x direct moto (PUT and GET, 1 and 8 "
            f"threads), replication lag p99 at 3 Regions <= delay + "
            f"{dataplane.TARGETS['lag_p99_over_delay'] * 1000:.0f} ms.", "",
            "Result: " + ("all met." if not failures else "missed — " + "; ".join(failures))]


def suites_section() -> list[str]:
    """The test suites' wall times, each as `make test` runs it (the unit suite on both cores)."""
    unit = suite_seconds(*UNIT_TESTS)
    # As `make test` runs them: tests/e2e are deploy sequences, in file order.
    e2e = suite_seconds("-m", "e2e", "tests/dataplane", "tests/ops") + suite_seconds("-m", "e2e", "-p", "no:randomly",
                                                                                    "tests/e2e")
    return [SUITES_TITLE, "", "| suite | seconds |", "|---|---:|",
            f"| unit, snapshot, lint, scanners (2 workers) | {unit:.1f} |", f"| end-to-end (local emulator) | {e2e:.1f} |"]


def main_part(part: str) -> int:
    """``python bench/run.py synth`` (the two synth tables, measured in one run) or ``suites`` (the suites' times):
    that part spliced into BENCHMARKS.md, then the Targets verdict read again from the whole document."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    if part == "synth":
        lib_lines, cli_lines, _tables = synth_sections(NS)
        text = splice_section(splice_section(text, lib_lines), cli_lines)
        print("\n".join(lib_lines + [""] + cli_lines))
    else:
        suites = suites_section()
        text = splice_section(text, suites, before=TARGETS_TITLE)
        print("\n".join(suites))
    targets = targets_section(text)
    path.write_text(splice_section(text, targets))
    print(targets[-1])
    return 1 if target_failures(text) else 0


def main() -> int:
    lines = ["# Benchmarks", "", "Regenerated by `make bench` (`bench/run.py`); do not edit by hand. Times vary with the",
             f"machine; compare ratios. Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}; {RUNS} rounds per N, project and baseline interleaved; times are medians,",
             "ratios the median of the per-round ratios. The L1 baseline (`bench/baseline_app.py`) synthesizes the same",
             "templates as the project (`tests/unit/test_bench.py` compares them property by property).", ""]
    lib_lines, cli_lines, tables = synth_sections(NS)
    lines += lib_lines + [""] + cli_lines
    with tempfile.TemporaryDirectory() as tmp:
        lines += [""] + cost_lines(COST_NS, Path(tmp))

    largest = max(tables)
    rows, _worst, _limit_failures = limit_rows(tables[largest])
    lines += ["", f"## Stacks at {largest} Regions: size against CloudFormation limits", "",
              "| wave | stack | template bytes | % of 1 MB | resources | % of 500 | outputs |",
              "|---:|---|---:|---:|---:|---:|---:|", *rows]
    waves = {n: max(r["wave"] for r in rows_) for n, rows_ in tables.items()}
    lines += ["", "## Deploy waves (stack dependency depth)", "", "| Regions | " + " | ".join(map(str, NS)) + " |",
              "|---" * (len(NS) + 1) + "|", "| waves | " + " | ".join(str(waves[n]) for n in NS) + " |"]

    lines += ["", *emulator_deploy.section(emulator_deploy.measure())]
    lines += ["", *dataplane.section(dataplane.measure())]

    lines += ["", *suites_section()]
    text = "\n".join(lines) + "\n"
    lines += ["", *targets_section(text)]
    failures = target_failures(text)
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main_part(sys.argv[1]) if sys.argv[1:] in (["synth"], ["suites"]) else main())
