"""Local data plane throughput and replication lag vs Regions: objects/second through the MRAP alias (PUT, then GET,
SigV4A-signed by boto3 through the HTTPS proxy) and live replication lag p50/p99, for 3 and 17 Regions.

Set-up is direct boto3 against one ``LocalAws`` with the data plane in front (``LocalDataPlane.create_mrap``:
versioned buckets, a full mesh of rules with metrics on, one replication role, the MRAP), no CDK. The engine's
delay is ``DELAY`` (0.05 s, the ``mrap`` fixture's default), so lag = that delay + queueing in the engine's single
worker + the copy; it is the engine's own measure (``Outcome.latency``: from the write reaching moto to the replica
being stored). PUTs are sequential from one client while replication runs on the same machine.

Run alone (``python bench/dataplane.py``) it measures and splices its section into BENCHMARKS.md; ``run.py`` adds the
same section when it regenerates the whole file.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ORDER, write_section  # noqa: E402

NS = [int(n) for n in os.environ.get("BENCH_DATAPLANE_NS", "3,17").split(",")]
OBJECTS = int(os.environ.get("BENCH_DATAPLANE_OBJECTS", "100"))
DELAY = 0.05
BODY = b"x" * 1024
TITLE = "## Local data plane vs Regions (through the MRAP alias, live replication)"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def measure(ns: list[int] = NS, objects: int = OBJECTS) -> dict[int, dict[str, float]]:
    """{N: {"put_per_s", "get_per_s", "lag_p50", "lag_p99", "replicas"}} on one emulator and data plane."""
    from mrap_constructs.testing.dataplane import LocalDataPlane

    results: dict[int, dict[str, float]] = {}
    with LocalDataPlane(delay=DELAY, client_region=ORDER[0]) as dataplane:
        for n in ns:
            point = dataplane.create_mrap(f"bench-dp-{n}", ORDER[:n])
            s3 = dataplane.s3_client(ORDER[0])
            s3.put_object(Bucket=point.arn, Key="warm-up", Body=BODY)
            dataplane.wait_idle(60)
            dataplane.engine.reset()
            started = time.perf_counter()
            for i in range(objects):
                s3.put_object(Bucket=point.arn, Key=f"obj-{i:05d}", Body=BODY)
            put_seconds = time.perf_counter() - started
            if not dataplane.wait_idle(600):
                raise TimeoutError(f"N={n}: replication did not finish")
            started = time.perf_counter()
            for i in range(objects):
                s3.get_object(Bucket=point.arn, Key=f"obj-{i:05d}")["Body"].read()
            get_seconds = time.perf_counter() - started
            lags = [o.latency for o in dataplane.engine.outcomes if o.kind == "object" and o.status == "COMPLETED"
                    and o.source_bucket in point.buckets.values()]
            if len(lags) != objects * (n - 1):
                raise RuntimeError(f"N={n}: {len(lags)} replicas, expected {objects * (n - 1)}")
            results[n] = {"put_per_s": objects / put_seconds, "get_per_s": objects / get_seconds,
                          "lag_p50": percentile(lags, 0.50), "lag_p99": percentile(lags, 0.99),
                          "replicas": float(len(lags))}
            print(f"N={n}: " + ", ".join(f"{k} {v:.3f}" for k, v in results[n].items()), flush=True)
            dataplane.engine.reset()
    return results


def section(results: dict[int, dict[str, float]], objects: int = OBJECTS) -> list[str]:
    """The BENCHMARKS.md section for ``results`` (ratios against the smallest N)."""
    base_n = min(results)
    base = results[base_n]
    lines = [TITLE, "",
             f"`bench/dataplane.py`: {objects} objects of 1 KiB PUT one after another through the MRAP ARN "
             f"(boto3, SigV4A, the data plane's HTTPS proxy), then read back with GET; full mesh of rules with metrics; "
             f"engine delay {DELAY} s; lag is write-to-replica per destination (`Outcome.latency`) over "
             f"{objects} x (N-1) replicas. Ratios against N={base_n}; one run per N, on the machine the suite runs on.",
             "",
             "| Regions | PUT obj/s | ratio | GET obj/s | ratio | lag p50 s | ratio | lag p99 s | ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in sorted(results.items()):
        lines.append(f"| {n} | {r['put_per_s']:.1f} | {r['put_per_s'] / base['put_per_s']:.2f}x | "
                     f"{r['get_per_s']:.1f} | {r['get_per_s'] / base['get_per_s']:.2f}x | "
                     f"{r['lag_p50']:.3f} | {r['lag_p50'] / base['lag_p50']:.2f}x | "
                     f"{r['lag_p99']:.3f} | {r['lag_p99'] / base['lag_p99']:.2f}x |")
    return lines


def main() -> int:
    return write_section(section(measure()))


if __name__ == "__main__":
    sys.exit(main())
