"""MRAP conformance, this project's emulator against a peer: the same cases (``mrap_constructs.testing.conformance``)
scored on both, written to docs/conformance.md (one column each) and to a BENCHMARKS.md section.

The peer is ``ministack`` from PyPI (it serves MRAP aliases over plain HTTP), pinned to ``PEER_VERSION`` and
installed into its own git-ignored venv ``.venv-peer/`` (never into the project's venv), started on 127.0.0.1 on a
free port and stopped at the end. Its MRAP requests are sent to its URL with the MRAP host in ``Host``
(``EndpointTarget``); its routing stands in for proximity with ``MINISTACK_REGION`` (us-east-1 here), which is the
client Region the routing case expects. A setup call it refuses is recorded per case as "setup failed".

``python bench/conformance.py`` (what ``make conformance`` runs); ``--no-peer`` scores the emulator only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import write_section  # noqa: E402

PEER = "ministack"
PEER_VERSION = "1.5.33"
PEER_VENV = ROOT / ".venv-peer"
PEER_REGION = "us-east-1"
TABLE = ROOT / "docs" / "conformance.md"
TITLE = "## MRAP conformance: this emulator vs a peer (same cases)"
AREAS = ["operations", "restrictions", "control", "routing", "replication", "permissions"]


def ensure_peer() -> Path:
    """The peer's executable, installing it into ``.venv-peer`` first if needed."""
    executable = PEER_VENV / "bin" / PEER
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        f"{PEER}=={PEER_VERSION}"], check=True)
    return executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_peer(process: subprocess.Popen) -> None:
    """Stop the peer: terminate, then kill after 15 s."""
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def start_peer(executable: Path, port: int, log: Path) -> subprocess.Popen:
    """Start the peer on 127.0.0.1:``port`` and wait until it answers (60 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(GATEWAY_PORT=str(port), BIND_HOST="127.0.0.1", MINISTACK_REGION=PEER_REGION)
    process = subprocess.Popen([str(executable)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{PEER} exited ({process.returncode}); see {log}") from None
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"{PEER} did not answer on 127.0.0.1:{port} within 60 s; see {log}")


def score_emulator() -> list:
    from mrap_constructs.testing.conformance import EmulatorTarget, run

    return run(EmulatorTarget(), progress=False)


def score_peer() -> list:
    from mrap_constructs.testing.conformance import EndpointTarget, run

    executable = ensure_peer()
    port = _free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"{PEER}-conformance-{port}.log"
    process = start_peer(executable, port, log)
    try:
        return run(EndpointTarget(f"http://127.0.0.1:{port}", name=PEER, client_region=PEER_REGION))
    finally:
        stop_peer(process)


def section(data: dict[str, dict[str, dict[str, str]]]) -> list[str]:
    from mrap_constructs.testing.conformance import CASES, Result, score

    labels = {"emulator": "this project's emulator (moto + data plane)",
              PEER: f"`{PEER}` {PEER_VERSION} (PyPI), served on 127.0.0.1"}
    columns = [t for t in ("emulator", PEER) if t in data]
    lines = [TITLE, "",
             f"`bench/conformance.py` (`make conformance`): the {len(CASES)} cases of "
             "`mrap_constructs.testing.conformance` (each a documented MRAP behaviour with its AWS source; table "
             "per case in [docs/conformance.md](docs/conformance.md)), run against each emulator with the same "
             "boto3 set-up: two versioned buckets, two-way rules, bucket policies delegating to one MRAP, an MRAP "
             "policy. Score = passed / checked (checked: pass, fail, setup failed; skipped and not modelled left "
             "out).", "",
             "| target | score | pass | fail | setup failed | skipped | not modelled | " +
             " | ".join(AREAS) + " |",
             "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(AREAS)]
    for target in columns:
        results = [Result(case, entry["outcome"], entry.get("detail", "")) for case, entry in data[target].items()]
        counts = {o: sum(r.outcome == o for r in results) for o in ("pass", "fail", "setup failed", "skipped",
                                                                      "not modelled")}
        per_area = []
        for area in AREAS:
            area_results = [r for r in results if r.case.split(".", 1)[0] == area]
            checked = [r for r in area_results if r.outcome in ("pass", "fail", "setup failed")]
            per_area.append(f"{sum(r.outcome == 'pass' for r in checked)}/{len(checked)}")
        lines.append(f"| {labels.get(target, target)} | {score(results)} | {counts['pass']} | {counts['fail']} | "
                     f"{counts['setup failed']} | {counts['skipped']} | {counts['not modelled']} | "
                     + " | ".join(per_area) + " |")
    lines += ["", "The emulator's failures are the deviations tests/dataplane/test_conformance.py lists as strict "
                  "xfails (fixes in flight, or reported); the peer's cross-account cases are skipped (one account)."]
    return lines


def main(argv: list[str] | None = None) -> int:
    from mrap_constructs.testing.conformance import runner
    from mrap_constructs.testing.conformance.__main__ import COLUMN_ORDER

    argv = sys.argv[1:] if argv is None else argv
    store = TABLE.with_suffix(".json")
    results = score_emulator()
    print(f"emulator: {runner.score(results)}", flush=True)
    data = runner.save(store, "emulator", results)
    if "--no-peer" not in argv:
        results = score_peer()
        print(f"{PEER}: {runner.score(results)}", flush=True)
        data = runner.save(store, PEER, results)
    TABLE.write_text(runner.table(data, COLUMN_ORDER))
    return write_section(section(data))


if __name__ == "__main__":
    raise SystemExit(main())
