"""Synthesize one app once and print the seconds spent building and synthesizing it (imports excluded)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402

from bench.baseline_app import build as build_baseline  # noqa: E402
from mrap_constructs import MRAP_REGIONS  # noqa: E402
from stacks.app_builder import build_app  # noqa: E402
from stacks.config import parse_config  # noqa: E402

FIRST = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ORDER = FIRST + sorted(MRAP_REGIONS - set(FIRST))
FLAGS = {k: v for k, v in json.loads((ROOT / "cdk.json").read_text())["context"].items() if k != "mrap"}


def main(kind: str, n: int, out: str) -> None:
    regions = ORDER[:n]
    started = time.perf_counter()
    app = cdk.App(context=FLAGS, outdir=out)
    if kind == "project":
        build_app(app, parse_config({"name": "bench", "regions": regions, "account": "111111111111"}))
    else:
        build_baseline(app, "bench", regions, "111111111111")
    app.synth()
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp())
