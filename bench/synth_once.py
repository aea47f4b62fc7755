"""Build and synthesize one app inside this process; print the seconds spent (imports excluded).

``python bench/synth_once.py KIND N OUTDIR`` with KIND ``project``, ``project-no-nag`` or ``baseline``. The app gets
cdk.json's feature flags and app.py's App context. This isolates what the construct library costs from process
start-up and the CLI.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402

from bench import ACCOUNT, APP_CONTEXT, NAME, ORDER, project_config  # noqa: E402

FLAGS = {**{k: v for k, v in json.loads((ROOT / "cdk.json").read_text())["context"].items() if k != "mrap"},
         **APP_CONTEXT}
KINDS = ("project", "project-no-nag", "baseline")


def main(kind: str, n: int, out: str) -> None:
    if kind == "baseline":
        from bench.baseline_app import build as build_baseline
    else:
        from stacks.app_builder import build_app
        from stacks.config import parse_config
    # The first call into aws-cdk-lib loads it in the jsii runtime. The project's imports make one (a Duration
    # default), the baseline's do not: make it here for every kind, so neither pays it inside the timing.
    cdk.Duration.seconds(1).to_seconds()
    started = time.perf_counter()
    app = cdk.App(context=FLAGS, outdir=out)
    if kind == "baseline":
        build_baseline(app, NAME, ORDER[:n], ACCOUNT)
    else:
        build_app(app, parse_config(project_config(n)), nag=kind == "project")
    app.synth()
    print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    if sys.argv[1] not in KINDS:
        sys.exit(f"KIND must be one of {KINDS}")
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp())
