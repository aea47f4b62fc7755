"""Local data plane: throughput through the MRAP against moto directly, and replication lag vs Regions.

Two measurements on one ``LocalAws`` with the data plane in front (``LocalDataPlane.create_mrap``: versioned
buckets, a full mesh of rules with metrics on, one replication role, the MRAP), set up with boto3, no CDK:

* **Throughput, MRAP vs direct** (3 Regions): objects/second of 1 KiB PUTs, then GETs of the same keys, from 1 and
  from 8 client threads, (a) through the MRAP ARN (boto3 signs SigV4A, the HTTPS proxy terminates TLS, the data plane
  verifies the signature, evaluates the policies, routes and hands the request to the emulated S3) and (b) with the
  same boto3 straight to the emulator's S3 endpoint (moto's own server), on the bucket the MRAP routes to. Both paths
  run in every round, alternating which goes first, ``ROUNDS`` rounds; a ratio is the median of the per-round ratios
  MRAP / direct (never absolute times: the machine is shared). Every PUT replicates to the two other Regions on both
  paths; the engine is drained between phases, outside the timed part. The client threads, the proxy and the
  emulator share one Python process (as in the test suites), so a ratio is CPU per request, path against path.
* **Replication lag vs Regions** (3 and 17): ``OBJECTS`` PUTs one after another through the MRAP, lag p50/p99 per
  destination from the engine's own measure (``Outcome.latency``: from the write's request completing in moto to the
  replica being stored). The engine's delay is ``DELAY`` (0.05 s, the ``mrap`` fixture's default); lag = that delay
  + queueing in the engine's single worker + the copy. Target at 3 Regions: p99 <= delay + 50 ms.

If the conformance peer (``ministack``, ``bench/conformance.py``) is installed in ``.venv-peer``, its MRAP alias is
measured in the same rounds (plain HTTP, its own server process) and its ratio printed.

Run alone (``python bench/dataplane.py``) it measures and splices its section into BENCHMARKS.md; ``run.py`` adds the
same section when it regenerates the whole file.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import ORDER, write_section  # noqa: E402

NS = [int(n) for n in os.environ.get("BENCH_DATAPLANE_NS", "3,17").split(",")]
OBJECTS = int(os.environ.get("BENCH_DATAPLANE_OBJECTS", "100"))
#: Objects per timed phase (one path, one operation, one thread count) and rounds of the throughput comparison.
THROUGHPUT_OBJECTS = int(os.environ.get("BENCH_DATAPLANE_THROUGHPUT_OBJECTS", "240"))
ROUNDS = int(os.environ.get("BENCH_DATAPLANE_ROUNDS", "3"))
THREADS = [int(n) for n in os.environ.get("BENCH_DATAPLANE_THREADS", "1,8").split(",")]
DELAY = 0.05
BODY = b"x" * 1024
TITLE = "## Local data plane: through the MRAP vs moto directly, and replication lag vs Regions"
#: Headings this section had before (replaced by it when it is written alone).
FORMER_TITLES = ("## Local data plane vs Regions (through the MRAP alias, live replication)",)
TARGETS = {"throughput_ratio": 0.9, "lag_p99_over_delay": 0.05}
PATHS = ("direct", "mrap")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def rate(call: Callable[[int], Any], objects: int, threads: int) -> float:
    """Objects/second of ``call(i)`` for ``i`` in ``range(objects)`` spread over ``threads`` threads."""
    if threads == 1:
        started = time.perf_counter()
        for i in range(objects):
            call(i)
        return objects / (time.perf_counter() - started)
    with ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(call, range(objects)))
        return objects / (time.perf_counter() - started)


def _direct_client(dataplane: Any, region: str) -> Any:
    import boto3
    from botocore.config import Config

    keys = dataplane.aws.credentials(dataplane.aws.account)
    return boto3.client("s3", region_name=region, endpoint_url=dataplane.aws.endpoint_url,
                        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                        config=Config(retries={"max_attempts": 1}, max_pool_connections=max(THREADS) + 2))


@contextlib.contextmanager
def peer_calls(regions: list[str]) -> Iterator[dict[str, Callable[[int], Any]] | None]:
    """``{"put": f(i), "get": f(i)}`` through the peer's MRAP alias (``ministack`` from ``bench/conformance.py``,
    started on 127.0.0.1 and stopped after), set up like ours: versioned buckets in ``regions``, a full mesh of
    rules, the MRAP; None when the peer is not installed in ``.venv-peer`` (``make conformance`` installs it)."""
    from bench import conformance

    executable = conformance.PEER_VENV / "bin" / conformance.PEER
    if os.environ.get("BENCH_DATAPLANE_PEER", "1") == "0" or not executable.exists():
        yield None
        return
    from mrap_constructs.testing.conformance import EndpointTarget

    port = conformance._free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"{conformance.PEER}-bench-{port}.log"
    process = conformance.start_peer(executable, port, log)
    try:
        target = EndpointTarget(f"http://127.0.0.1:{port}", name=conformance.PEER,
                                client_region=conformance.PEER_REGION)
        buckets = {region: f"bench-peer-{region}" for region in regions}
        for region, bucket in buckets.items():
            s3 = target.client("s3", region)
            s3.create_bucket(Bucket=bucket, **({} if region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": region}}))
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        role = "arn:aws:iam::000000000000:role/bench-replication"
        for region, bucket in buckets.items():
            target.client("s3", region).put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
                "Role": role, "Rules": [{"ID": f"to-{r}", "Priority": i, "Status": "Enabled", "Filter": {"Prefix": ""},
                                         "DeleteMarkerReplication": {"Status": "Enabled"},
                                         "Destination": {"Bucket": f"arn:aws:s3:::{b}"}}
                                        for i, (r, b) in enumerate(sorted(buckets.items())) if r != region]})
        control = target.client("s3control", "us-west-2")
        account = target.client("sts").get_caller_identity()["Account"]
        control.create_multi_region_access_point(AccountId=account, ClientToken="bench", Details={
            "Name": "bench-peer", "Regions": [{"Bucket": b} for b in buckets.values()]})
        alias = control.get_multi_region_access_point(AccountId=account, Name="bench-peer")["AccessPoint"]["Alias"]
        arn = f"arn:aws:s3::{account}:accesspoint/{alias}"
        client = target.mrap_s3()  # boto3's pool of 10 connections serves the 8 threads
        yield {"put": lambda i: client.put_object(Bucket=arn, Key=f"peer/obj-{i:05d}", Body=BODY),
               "get": lambda i: client.get_object(Bucket=arn, Key=f"peer/obj-{i:05d}")["Body"].read()}
    finally:
        conformance.stop_peer(process)


def throughput(dataplane: Any, rounds: int = ROUNDS, objects: int = THROUGHPUT_OBJECTS,
               threads: list[int] = THREADS, peer: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"rounds": [{(path, op, threads): obj/s}], "ratio": {(op, threads): median MRAP/direct}}`` at 3 Regions.

    ``peer``: ``{"put": f(i), "get": f(i)}`` callables for the peer's MRAP, measured in the same rounds."""
    point = dataplane.create_mrap("bench-dp-tp", ORDER[:3])
    region = ORDER[0]
    bucket = point.buckets[region]
    mrap = dataplane.s3_client(region)
    direct = _direct_client(dataplane, region)
    targets = {"direct": (direct, bucket), "mrap": (mrap, point.arn)}
    calls: dict[str, dict[str, Callable[[int], Any]]] = {}
    for path, (client, name) in targets.items():
        calls[path] = {
            "put": lambda i, c=client, b=name, p=path: c.put_object(Bucket=b, Key=f"{p}/obj-{i:05d}", Body=BODY),
            "get": lambda i, c=client, b=name, p=path: c.get_object(Bucket=b, Key=f"{p}/obj-{i:05d}")["Body"].read()}
    if peer:
        calls["peer"] = peer
    paths = list(calls)
    for path in paths:  # warm-up: connections, TLS sessions, first-call imports
        rate(calls[path]["put"], max(threads) * 2, max(threads))
        rate(calls[path]["get"], max(threads) * 2, max(threads))
    dataplane.wait_idle(120)
    results: list[dict[tuple[str, str, int], float]] = []
    for round_ in range(rounds):
        measured: dict[tuple[str, str, int], float] = {}
        for n_threads in threads:
            for op in ("put", "get"):
                for path in paths if round_ % 2 == 0 else paths[::-1]:
                    measured[(path, op, n_threads)] = rate(calls[path][op], objects, n_threads)
                    if not dataplane.wait_idle(300):
                        raise TimeoutError("replication did not drain")
        results.append(measured)
        print(f"round {round_ + 1}: " + ", ".join(f"{p} {o} x{t} {v:.0f}/s" for (p, o, t), v in measured.items()),
              flush=True)
    ratio = {(op, t): statistics.median(r[("mrap", op, t)] / r[("direct", op, t)] for r in results)
             for t in threads for op in ("put", "get")}
    out: dict[str, Any] = {"rounds": results, "ratio": ratio, "objects": objects}
    if peer:
        out["peer_ratio"] = {(op, t): statistics.median(r[("mrap", op, t)] / r[("peer", op, t)] for r in results)
                             for t in threads for op in ("put", "get")}
    dataplane.engine.reset()
    return out


def lag(dataplane: Any, ns: list[int] = NS, objects: int = OBJECTS) -> dict[int, dict[str, float]]:
    """{N: {"put_per_s", "lag_p50", "lag_p99", "replicas"}}: sequential PUTs through the MRAP, live replication."""
    results: dict[int, dict[str, float]] = {}
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
        lags = [o.latency for o in dataplane.engine.outcomes if o.kind == "object" and o.status == "COMPLETED"
                and o.source_bucket in point.buckets.values()]
        if len(lags) != objects * (n - 1):
            raise RuntimeError(f"N={n}: {len(lags)} replicas, expected {objects * (n - 1)}")
        results[n] = {"put_per_s": objects / put_seconds, "lag_p50": percentile(lags, 0.50),
                      "lag_p99": percentile(lags, 0.99), "replicas": float(len(lags))}
        print(f"N={n}: " + ", ".join(f"{k} {v:.3f}" for k, v in results[n].items()), flush=True)
        dataplane.engine.reset()
    return results


def measure(ns: list[int] = NS, objects: int = OBJECTS) -> dict[str, Any]:
    """Both measurements on one emulator and data plane: ``{"throughput": ..., "lag": ...}``."""
    from mrap_constructs.testing.dataplane import LocalDataPlane

    with LocalDataPlane(delay=DELAY, client_region=ORDER[0]) as dataplane, \
            peer_calls(ORDER[:3]) as peer:
        if peer is None:
            print("peer (ministack) not installed in .venv-peer: not measured (`make conformance` installs it)")
        return {"throughput": throughput(dataplane, peer=peer), "lag": lag(dataplane, ns, objects)}


def section(results: dict[str, Any], objects: int = OBJECTS) -> list[str]:
    """The BENCHMARKS.md section for ``results`` (``measure``'s)."""
    tp, lags = results["throughput"], results["lag"]
    threads = sorted({t for _, t in tp["ratio"]})
    rounds = tp["rounds"]
    lines = [TITLE, "",
             f"`bench/dataplane.py`, throughput: {tp['objects']} objects of 1 KiB per phase, PUT then GET, from 1 and "
             "8 client threads, through the MRAP ARN (boto3, SigV4A, the data plane's HTTPS proxy, policies, "
             "routing) and with the same boto3 straight to moto's S3 endpoint on the routed bucket; 3 Regions, full "
             f"mesh of rules with metrics, so every PUT replicates twice on both paths. {len(rounds)} rounds, the paths "
             "alternating; obj/s are medians, a ratio is the median of the per-round ratios MRAP / direct (one "
             "process: the clients, the proxy and the emulator share the CPU).", "",
             "| operation | client threads | direct moto (obj/s) | through the MRAP (obj/s) | MRAP / direct |",
             "|---|---:|---:|---:|---:|"]
    for t in threads:
        for op in ("put", "get"):
            direct = statistics.median(r[("direct", op, t)] for r in rounds)
            mrap = statistics.median(r[("mrap", op, t)] for r in rounds)
            lines.append(f"| {op.upper()} | {t} | {direct:.0f} | {mrap:.0f} | {tp['ratio'][(op, t)]:.2f}x |")
    if "peer_ratio" in tp:
        lines += ["", "Against the peer's MRAP alias (`ministack` from `bench/conformance.py`, same buckets, rules and "
                  "clients) in the same rounds, MRAP / peer: " +
                  ", ".join(f"{op.upper()} x{t} {v:.2f}x" for (op, t), v in tp["peer_ratio"].items()) +
                  ". Not like for like: the peer serves plain HTTP with SigV4 (no TLS, no SigV4A check, no policies) "
                  "from its own process, so its server does not share the clients' interpreter as ours does."]
    base_n = min(lags)
    lines += ["", f"Replication lag: {objects} objects of 1 KiB PUT one after another through the MRAP ARN; engine "
              f"delay {DELAY} s; lag is write-to-replica per destination (`Outcome.latency`) over {objects} x (N-1) "
              f"replicas; one run per N. Target: p99 at 3 Regions <= delay + "
              f"{TARGETS['lag_p99_over_delay'] * 1000:.0f} ms.", "",
              "| Regions | PUT obj/s | lag p50 s | lag p99 s | p99 ratio |", "|---:|---:|---:|---:|---:|"]
    for n, r in sorted(lags.items()):
        lines.append(f"| {n} | {r['put_per_s']:.1f} | {r['lag_p50']:.3f} | {r['lag_p99']:.3f} | "
                     f"{r['lag_p99'] / lags[base_n]['lag_p99']:.2f}x |")
    missed = failures(results)
    lines += ["", "Targets: MRAP / direct >= " f"{TARGETS['throughput_ratio']}x for PUT and GET at every thread count; "
              f"lag p99 at 3 Regions <= {DELAY + TARGETS['lag_p99_over_delay']:.3f} s. Result: "
              + ("met." if not missed else "missed — " + "; ".join(missed))]
    return lines


def failures(results: dict[str, Any]) -> list[str]:
    """The targets ``results`` miss."""
    missed = [f"{op.upper()} x{t}: {v:.2f}x < {TARGETS['throughput_ratio']}x"
              for (op, t), v in results["throughput"]["ratio"].items() if v < TARGETS["throughput_ratio"]]
    three = results["lag"].get(3)
    if three and three["lag_p99"] > DELAY + TARGETS["lag_p99_over_delay"]:
        missed.append(f"lag p99 at 3 Regions {three['lag_p99']:.3f} s > {DELAY + TARGETS['lag_p99_over_delay']:.3f} s")
    return missed


def main() -> int:
    results = measure()
    return write_section(section(results), replaces=FORMER_TITLES, status=1 if failures(results) else 0)


if __name__ == "__main__":
    sys.exit(main())
