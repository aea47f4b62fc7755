"""The benchmark's own logic, and that its hand-written baseline stays a fair one (the same templates)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import aws_cdk as cdk
import pytest

import bench
from bench import ORDER, project_config
from bench.baseline_app import build as build_baseline
from bench.run import limit_rows, paired_ratio, target_failures, targets_section
from mrap_constructs import MRAP_REGIONS
from mrap_constructs._sdk_call import PROVIDER_FUNCTION_ID
from scripts.synth_summary import stack_rows
from stacks.app_builder import APP_CONTEXT
from tests.conftest import ACCOUNT, DEFAULT_CONFIG, FEATURE_FLAGS


def test_regions_are_added_in_a_fixed_order_starting_with_the_default_config():
    assert sorted(ORDER) == sorted(MRAP_REGIONS) and len(ORDER) == len(set(ORDER)) == 17
    assert ORDER[:3] == DEFAULT_CONFIG["regions"]
    assert project_config(5) == {"name": "bench", "regions": ORDER[:5], "account": ACCOUNT}


def test_both_apps_synthesize_with_app_py_context():
    assert bench.APP_CONTEXT == APP_CONTEXT


def test_ratio_is_the_median_of_per_round_ratios():
    # Round 2 ran on a slow machine for both: pairing keeps it from skewing the ratio.
    assert paired_ratio([2.0, 4.4, 2.2], [1.6, 4.0, 2.0]) == pytest.approx(1.1)
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0, 2.0])


def test_limit_rows_report_the_largest_share_and_every_stack_over_a_limit():
    rows = [{"wave": 1, "stack": "small", "bytes": 100_000, "resources": 10, "outputs": 2},
            {"wave": 2, "stack": "huge", "bytes": 1_200_000, "resources": 250, "outputs": 1}]
    lines, worst, failures = limit_rows(rows)
    assert worst == pytest.approx(1.2)
    assert failures == ["huge exceeds a CloudFormation limit"]
    assert lines[0] == "| 1 | small | 100,000 | 10.0% | 10 | 2.0% | 2 |"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """``baseline(n)``: the baseline's cloud assembly for the bench's first ``n`` Regions."""
    built: dict[int, Path] = {}

    def _baseline(n: int) -> Path:
        if n not in built:
            built[n] = tmp_path_factory.mktemp(f"baseline-{n}")
            app = cdk.App(context=FEATURE_FLAGS, outdir=str(built[n]))
            build_baseline(app, "bench", ORDER[:n], ACCOUNT)
            app.synth()
        return built[n]

    return _baseline


#: CDK appends an 8-character hash to the logical ids of constructs below the stack's top level.
_HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")


def _comparable(template: dict) -> dict:
    """Resources and outputs with CDK's logical-id hashes taken off, metadata dropped, Lambda code's asset hash
    (``S3Key``) masked."""
    ids = {logical_id: _HASH_SUFFIX.sub("", logical_id) for logical_id in template["Resources"]}
    ids[PROVIDER_FUNCTION_ID + _provider_suffix(template)] = "SdkCallFunction"
    text = json.dumps({"Resources": template["Resources"], "Outputs": template.get("Outputs", {})})
    for old, new in sorted(ids.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f'"{old}"', f'"{new}"')
    comparable = json.loads(text)
    for resource in comparable["Resources"].values():
        resource.pop("Metadata", None)
        if resource["Type"] == "AWS::Lambda::Function":  # both are file assets, of different handlers
            resource["Properties"]["Code"]["S3Key"] = "<asset hash>.zip"
    return comparable


def _provider_suffix(template: dict) -> str:
    ids = (i for i in template["Resources"] if i.startswith(PROVIDER_FUNCTION_ID))
    return next((i[len(PROVIDER_FUNCTION_ID) :] for i in ids), "")


@pytest.mark.parametrize("n", [1, 3])  # one Region: nothing to replicate; three: a full mesh
def test_baseline_synthesizes_the_same_templates_as_the_project(baseline, synth, n):
    # A fair baseline: every stack has the same resources with the same properties, dependencies and outputs; only
    # logical ids, metadata and the asset hash of the custom resource function's code differ.
    out, project = baseline(n), synth(project_config(n))
    assert sorted(p.name for p in out.glob("*.template.json")) == sorted(
        f"{name}.template.json" for name in project.stack_names)
    for name in project.stack_names:
        template = json.loads((out / f"{name}.template.json").read_text())
        assert _comparable(template) == _comparable(project.template_json(name)), name


def test_comparison_sees_a_missing_property(baseline):
    template = json.loads((baseline(3) / "bench-replication-us-east-1.template.json").read_text())
    altered = json.loads(json.dumps(template))
    next(r for r in altered["Resources"].values() if r["Type"] == "AWS::SNS::Topic")["Properties"].pop("DisplayName")
    assert _comparable(altered) != _comparable(template)


def test_baseline_deploys_in_the_same_waves(baseline, synth):
    waves = Counter(r["wave"] for r in stack_rows(baseline(3)))
    assert waves == Counter(r["wave"] for r in stack_rows(synth(project_config(3)).out_dir)) == Counter({1: 3, 2: 4})


def test_cost_table_prices_default_per_rule_and_lean_configs(tmp_path):
    from bench import LEAN
    from bench.run import cost_lines

    seen: list[dict] = []

    def synthesize(config: dict, out: Path) -> Path:
        # stand-in assemblies: an alarm per Region (per rule: two), a dashboard unless turned off
        seen.append(config)
        monitoring = config.get("monitoring", {})
        alarms = len(config["regions"]) * (2 if monitoring.get("alarms_per_rule") else 1)
        resources = {f"A{i}": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}} for i in range(alarms)}
        if monitoring.get("dashboard", True):
            resources["D"] = {"Type": "AWS::CloudWatch::Dashboard", "Properties": {}}
        out.mkdir()
        (out / "s.template.json").write_text(json.dumps({"Resources": resources}))
        (out / "manifest.json").write_text(json.dumps({"artifacts": {"s": {
            "type": "aws:cloudformation:stack", "properties": {"templateFile": "s.template.json"}}}}))
        return out

    lines = cost_lines([1, 3], tmp_path, synthesize)
    assert lines[0].startswith("## Idle monthly cost vs Regions")
    assert lines[-2:] == ["| 1 | 0 | 1 | 2 | 0.10 | 0.00 | 3.10 | 0.10 |",
                          "| 3 | 6 | 3 | 6 | 0.30 | 0.00 | 3.30 | 0.30 |"]
    assert seen[:3] == [project_config(1), {**project_config(1), "monitoring": {"alarms_per_rule": True}},
                        {**project_config(1), **LEAN}]


def test_lean_config_is_valid_and_watches_nothing():
    from bench import LEAN
    from stacks.config import parse_config

    config = parse_config({**project_config(3), **LEAN})
    assert not (config.replication.metrics or config.monitoring.alarms or config.monitoring.dashboard)


def test_emulator_deploy_section_replaces_itself_or_goes_before_the_suites():
    from bench import splice_section as splice
    from bench.emulator_deploy import TITLE, section

    lines = section({1: {"synth": 10.0, "bootstrap": 4.0, "deploy": 2.0},
                     17: {"synth": 20.0, "bootstrap": 6.0, "deploy": 10.0}})
    assert lines[0] == TITLE and lines[-1] == "| 17 | 35 | 20.0 | 6.0 | 10.0 | 5.00x | 36.0 | 2.25x |"
    once = splice("# B\n\n## Test suites\n\nx\n", lines)
    assert once.index(TITLE) < once.index("## Test suites")
    assert splice(once, lines) == once, "replaced, not added twice"


def test_dataplane_section_has_ratios_targets_and_replaces_itself():
    from bench import splice_section as splice
    from bench.dataplane import TITLE, failures, percentile, section

    def round_(put_mrap: float) -> dict:
        return {("direct", "put", 1): 100.0, ("mrap", "put", 1): put_mrap, ("direct", "get", 1): 200.0,
                ("mrap", "get", 1): 190.0}

    rounds = [round_(80.0), round_(120.0), round_(110.0)]
    results = {"throughput": {"rounds": rounds, "objects": 240,
                              "ratio": {("put", 1): 1.1, ("get", 1): 0.95}},
               "lag": {3: {"put_per_s": 40.0, "lag_p50": 0.05, "lag_p99": 0.1, "replicas": 200.0},
                       17: {"put_per_s": 20.0, "lag_p50": 0.1, "lag_p99": 0.4, "replicas": 1600.0}}}
    lines = section(results, objects=100)
    assert lines[0] == TITLE
    assert "| PUT | 1 | 100 | 110 | 1.10x |" in lines  # medians of the rounds, and the paired ratio
    assert "| GET | 1 | 200 | 190 | 0.95x |" in lines
    assert "| 17 | 20.0 | 0.100 | 0.400 | 4.00x |" in lines
    assert failures(results) == []
    assert lines[-1].endswith("Result: met.")
    slow = {**results, "throughput": {**results["throughput"], "ratio": {("put", 1): 0.8, ("get", 1): 0.95}},
            "lag": {3: {**results["lag"][3], "lag_p99": 0.2}}}
    assert failures(slow) == ["PUT x1: 0.80x < 0.9x", "lag p99 at 3 Regions 0.200 s > 0.100 s"]
    once = splice("# B\n\n## Test suites\n\nx\n", lines)
    assert once.index(TITLE) < once.index("## Test suites") and splice(once, lines) == once
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert percentile([1.0, 2.0], 0.5) == 1.0


def test_drop_section_removes_only_the_named_section():
    from bench import drop_section

    markdown = "# B\n\n## Old\n\nold body\n\n## Test suites\n\nx\n"
    assert drop_section(markdown, "## Old") == "# B\n\n## Test suites\n\nx\n"
    assert drop_section(markdown, "## Missing") == markdown


def test_the_targets_verdict_is_read_from_the_published_tables():
    """A part measured alone (`bench/run.py synth` or `suites`) re-reads the verdict from the whole document: every
    table's numbers as printed decide it, so the Result line cannot disagree with them."""
    document = "\n".join([
        "## Synth vs Regions: build + synth inside the app (full mesh, monitoring on, cdk-nag on)", "", "text", "",
        "| Regions | project (s) | L1 baseline (s) | project / baseline | no nag (s) | no nag / baseline |",
        "|---:|---:|---:|---:|---:|---:|", "| 1 | 2.00 | 1.80 | 1.11x | 1.90 | 1.05x |",
        "| 17 | 10.50 | 7.00 | 1.50x | 9.00 | 1.28x |", "",
        "## `cdk synth` vs Regions, as users run it", "", "| Regions | project (s) | L1 baseline (s) | ratio |",
        "|---:|---:|---:|---:|", "| 1 | 5.00 | 4.00 | 1.25x |", "",
        "## Stacks at 17 Regions: size against CloudFormation limits", "",
        "| wave | stack | bytes | % of 1 MB | resources | % of 500 | outputs |", "|---:|---|---:|---:|---:|---:|---:|",
        "| 1 | big | 600,000 | 60.0% | 5 | 1.0% | 2 |", "",
        "## Deploy waves (stack dependency depth)", "", "| Regions | 1 | 17 |", "|---|---|---|",
        "| waves | 2 | 3 |", "",
        "## Local data plane: through the MRAP vs moto directly, and replication lag vs Regions", "",
        "Targets: ... Result: missed — PUT x8: 0.80x < 0.9x", "",
        "## Test suites", "", "| suite | seconds |", "|---|---:|",
        "| unit, snapshot, lint, scanners (2 workers) | 58.2 |",
        "| end-to-end (local emulator) | 200.0 |", ""])
    assert target_failures(document) == [
        "N=17: project/baseline 1.50x > 1.3x", "17-Region synth 10.50 s > 10.0 s", "big uses 60% of a CloudFormation "
        "limit (> 50%)", "3 deploy waves", "data plane: PUT x8: 0.80x < 0.9x"]
    slower = document.replace("| 58.2 |", "| 61.0 |")
    assert target_failures(slower)[-1] == "unit suite 61s > 60s"
    assert targets_section(slower)[-1].startswith("Result: missed — N=17")
    met = "\n".join(line for line in document.splitlines() if not line.startswith(("| 17 |", "| 1 | big", "Targets")))
    assert targets_section(met.replace("| 2 | 3 |", "| 2 | 2 |"))[-1] == "Result: all met."
