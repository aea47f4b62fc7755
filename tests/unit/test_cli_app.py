"""`app.py` as the CDK CLI runs it: bad configs exit non-zero with readable lines; `cdk synth -c config=`."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import os
import subprocess
import types

import aws_cdk as cdk
import pytest

from scripts.synth_summary import summarize
from stacks.config import MrapConfig
from tests.conftest import FEATURE_FLAGS, ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def _main_in_process(context: dict, tmp_path) -> subprocess.CompletedProcess:
    """``app.py``'s ``main()`` in this process with ``context`` and output directory ``tmp_path`` (what the CDK CLI
    hands the app in ``CDK_CONTEXT_JSON`` and ``CDK_OUTDIR``; given to its App here, as this process's jsii runtime
    started before any such variable was set) and the repo root as working directory: its exit status and stderr,
    as a process would give them, without starting another Python and Node.js (~2 s of CPU each). The CLI test below
    proves that ``python app.py`` runs as a script and prints nothing but its own lines."""
    spec = importlib.util.spec_from_file_location("_mrap_app_main", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.APP_CONTEXT = {**FEATURE_FLAGS, **context}
    module.cdk = types.SimpleNamespace(**{**vars(cdk), "App": functools.partial(cdk.App, outdir=str(tmp_path))})
    cwd, stderr = os.getcwd(), io.StringIO()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stderr(stderr):
            code = module.main()
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(["app.py"], code, "", stderr.getvalue())


def test_bad_config_exits_1_with_one_line_per_problem_and_no_traceback(tmp_path):
    result = _main_in_process({"mrap": {"name": "Bad_Name", "regions": ["us-esat-1"], "colour": "red"}}, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: mrap.name='Bad_Name': must be 3-50 characters of lowercase letters, digits and hyphens, "
        "start and end with a letter or digit (pattern ^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$)",
        "error: mrap.regions=['us-esat-1']: 'us-esat-1' does not support MRAPs (did you mean 'us-east-1'?)",
        f"error: mrap.colour: unknown key (known keys: {', '.join(sorted(MrapConfig.model_fields))})",
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not CDK.exists(), reason="node_modules not installed (run `make test`)")
def test_cdk_cli_synth_with_a_one_region_config_file(tmp_path):
    config = tmp_path / "one.json"
    config.write_text(json.dumps({"name": "solo", "regions": ["eu-west-1"], "account": "111111111111"}))
    out = tmp_path / "out"
    # A workstation, not CI: with `CI` set the CLI sends its own lines to stdout instead of stderr
    # (node_modules/aws-cdk/README.md, "Running in CI"), and this test checks both streams exactly.
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env |= {"PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    result = subprocess.run([str(CDK), "synth", "--quiet", "--no-notices", "-c", f"config={config}", "-o", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "reserved context key" not in result.stderr  # the CLI warns about `aws:` keys in cdk.json
    assert not (tmp_path / "one.lock.json").exists(), "a synth is not a deploy: `record` writes the lock afterwards"
    pending = json.loads((out / "mrap.pending.json").read_text())["pending"][0]
    assert pending["entry"]["key"] == "111111111111/solo" and pending["lock"] == str(tmp_path / "one.lock.json")
    assert pending["expect"]["solo-access-point"] == {"MrapName": "solo"}
    # app.py turns creation stack traces off (APP_CONTEXT): under jsii they never show user code.
    metadata = [json.loads(p.read_text()) for p in out.glob("*.metadata.json")]
    types = {entry["type"] for stack in metadata for entries in stack.values() for entry in entries}
    assert "aws:cdk:logicalId" in types and "aws:cdk:creationStack" not in types
    # What the user sees: the app's one note and the CLI's own lines; no warning, banner or traceback.
    assert result.stderr.splitlines() == [
        f"note: 111111111111/solo is not in {tmp_path / 'one.lock.json'}: a first deploy. After `cdk deploy --all` "
        f"succeeds, run `python -m mrap_constructs.lock record` and commit {tmp_path / 'one.lock.json'}",
        f"Successfully synthesized to {out}",
        "Supply a stack id (solo-set/solo-bucket-eu-west-1, solo-set/solo-access-point) to display its template.",
    ]
    assert result.stdout == "", "with several stacks and --quiet, `cdk synth` prints no template"
    manifest = json.loads((out / "manifest.json").read_text())
    names = sorted(a["properties"]["stackName"] for a in manifest["artifacts"].values()
                   if a["type"] == "aws:cloudformation:stack")
    # One Region replicates nowhere: no replication stack. The CLI shows each stack by its path under the set.
    assert names == ["solo-access-point", "solo-bucket-eu-west-1"]
    assert len(list(out.glob("*.template.json"))) == 2
    assert sorted(a["displayName"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack") \
        == ["solo-set/solo-access-point", "solo-set/solo-bucket-eu-west-1"]
    summary = summarize(out)  # what `make synth` prints after the synth (scripts/synth_summary.py)
    assert "Stacks: 2 in 2 deploy waves" in summary and "cdk-nag findings: 0" in summary
    # ... and the idle cost: one dashboard, nothing else billed by the month with one Region and SSE-S3.
    assert "Idle monthly cost" in summary and "CloudWatch dashboards" in summary
    assert [line.split()[-1] for line in summary.splitlines() if line.startswith("idle total")] == ["3.00"]
