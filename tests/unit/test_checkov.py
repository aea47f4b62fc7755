"""checkov over the synthesized templates, with the justified skips of .checkov.yaml (offline)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import ROOT
from tests.unit.test_app import SCENARIOS

CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"


def _checkov(directory) -> dict:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: run `make test` (it installs .venv-scan)")
    result = subprocess.run(
        [str(CHECKOV), "-d", str(directory), "--config-file", str(ROOT / ".checkov.yaml"), "-o", "json"],
        capture_output=True, text=True, timeout=300,
    )
    report = json.loads(result.stdout)
    return report if isinstance(report, dict) else {"summary": {"failed": sum(r["summary"]["failed"] for r in report)},
                                                   "results": {"failed_checks": [c for r in report for c in
                                                                                 r["results"]["failed_checks"]]}}


@pytest.fixture(scope="module")
def report(default_app, synth, tmp_path_factory):
    """One checkov run (its start-up dominates) over the apps' templates and a known-bad template."""
    root = tmp_path_factory.mktemp("checkov")
    (root / "apps").mkdir()
    for app in (default_app, synth(SCENARIOS["kms-2"])):
        for name in app.stack_names:
            (root / "apps" / f"{name}.template.json").write_text(json.dumps(app.template_json(name)))
    # Guards the guard: an unencrypted, unversioned, public bucket must fail.
    bad = {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "PublicRead"}}}}
    (root / "bad").mkdir()
    (root / "bad" / "bad.template.json").write_text(json.dumps(bad))
    return _checkov(root)


def test_default_and_kms_apps_have_no_checkov_finding(report):
    failed = [(c["check_id"], c["file_path"]) for c in report["results"]["failed_checks"]
              if not c["file_path"].startswith("/bad/")]
    assert failed == []
    assert report["summary"]["passed"] > 100


def test_checkov_catches_a_public_bucket(report):
    assert any(c["file_path"].startswith("/bad/") for c in report["results"]["failed_checks"])
