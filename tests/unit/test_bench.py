"""The benchmark's own logic, and that its hand-written baseline stays a fair one (the same resources)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import aws_cdk as cdk
import pytest

from bench import ORDER, project_config
from bench.baseline_app import build as build_baseline
from bench.run import limit_rows, paired_ratio
from mrap_constructs import MRAP_REGIONS
from scripts.synth_summary import stack_rows
from tests.conftest import ACCOUNT, DEFAULT_CONFIG, FEATURE_FLAGS


def test_regions_are_added_in_a_fixed_order_starting_with_the_default_config():
    assert sorted(ORDER) == sorted(MRAP_REGIONS) and len(ORDER) == len(set(ORDER)) == 17
    assert ORDER[:3] == DEFAULT_CONFIG["regions"]
    assert project_config(5) == {"name": "bench", "regions": ORDER[:5], "account": ACCOUNT}


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
def baseline_3(tmp_path_factory) -> Path:
    """The baseline's cloud assembly for the default config's three Regions."""
    out = tmp_path_factory.mktemp("baseline")
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(out))
    build_baseline(app, "bench", ORDER[:3], ACCOUNT)
    app.synth()
    return out


def _types(templates: list[dict]) -> Counter:
    return Counter(r["Type"] for t in templates for r in t["Resources"].values())


def test_baseline_builds_the_same_resources_as_the_project(baseline_3, default_app):
    baseline = _types([json.loads(p.read_text()) for p in baseline_3.glob("*.template.json")])
    project = _types([default_app.template_json(name) for name in default_app.stack_names])
    same = ["AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::S3::MultiRegionAccessPoint",
            "AWS::S3::MultiRegionAccessPointPolicy", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard",
            "AWS::SNS::Topic", "AWS::Lambda::Function", "AWS::Logs::LogGroup"]
    assert {t: baseline[t] for t in same} == {t: project[t] for t in same}
    assert baseline["AWS::CloudWatch::Alarm"] == 4 * 3 * 2  # four per rule, full mesh
    assert baseline["AWS::CloudFormation::CustomResource"] == project["Custom::S3BucketReplication"] == 3


def test_baseline_deploys_in_the_same_waves(baseline_3, default_app):
    waves = Counter(r["wave"] for r in stack_rows(baseline_3))
    assert waves == Counter(r["wave"] for r in stack_rows(default_app.out_dir)) == Counter({1: 3, 2: 4})
