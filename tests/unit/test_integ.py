"""The integ tests (tests/integ/integ_*.py) synthesize, base and change, and every resource the change removes from a
stack of the test case is of a type the test accepts in ``allowDestroy`` (and every accepted type is removed): the
removal half of integ-runner's destructive-change check, offline, while integ-runner itself cannot read aws-cdk-lib
2.275.0's manifests (docs/testing.md). Replacements are judged by the day-2 change matrix (test_day2_matrix.py).
"""

from __future__ import annotations

import functools
import json
import runpy
from pathlib import Path

import aws_cdk as cdk
import pytest

from tests.conftest import ROOT

INTEG_TESTS = sorted((ROOT / "tests" / "integ").glob("integ_*.py"))


def _synth(test: Path, out: Path, phase: str | None) -> dict:
    """Run the integ test file as integ-runner does (its App writes to ``out``; ``MRAP_INTEG_PHASE`` set for the
    change), in this process: ``cdk.App`` gets ``out`` as its output directory (what ``CDK_OUTDIR`` says when a
    runner starts it), so no other Python and Node.js start (~2 s of CPU each)."""
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(cdk, "App", functools.partial(cdk.App, outdir=str(out)))
        if phase:
            mp.setenv("MRAP_INTEG_PHASE", phase)
        else:
            mp.delenv("MRAP_INTEG_PHASE", raising=False)
        mp.chdir(test.parent)
        runpy.run_path(str(test), run_name="__main__")
    finally:
        mp.undo()
    return json.loads((out / "integ.json").read_text())


def _resources(out: Path, stack: str) -> dict:
    """The resources of ``stack`` as integ.json names it: a stack's display name (its path under the app, e.g.
    ``Day2Kms/integ-day2-kms-bucket-us-east-1``), resolved to its template through the cloud assembly's manifest."""
    artifacts = json.loads((out / "manifest.json").read_text())["artifacts"]
    [template] = [a["properties"]["templateFile"] for a in artifacts.values()
                  if a.get("type") == "aws:cloudformation:stack" and a.get("displayName") == stack]
    return json.loads((out / template).read_text())["Resources"]


@pytest.mark.parametrize("test", INTEG_TESTS, ids=[t.stem for t in INTEG_TESTS])
def test_a_change_removes_only_what_its_integ_test_allows(test, tmp_path):
    base = _synth(test, tmp_path / "base", None)
    change = _synth(test, tmp_path / "change", "change")
    [case] = change["testCases"].values()
    assert [c["stacks"] for c in base["testCases"].values()] == [case["stacks"]], "same stacks, base and change"
    assert case.get("stackUpdateWorkflow") is True, "on AWS: the base deployed, then the change as an update"
    removed = {(stack, logical_id, resource["Type"])
               for stack in case["stacks"]
               for logical_id, resource in _resources(tmp_path / "base", stack).items()
               if logical_id not in _resources(tmp_path / "change", stack)}
    assert removed, "a base->change case changes something"
    allowed = set(case.get("allowDestroy", []))
    assert {kind for _, _, kind in removed} == allowed, sorted(removed)
    # What stays safe: a removed KMS key is retained (its objects stay readable).
    for stack, logical_id, kind in removed:
        if kind == "AWS::KMS::Key":
            assert _resources(tmp_path / "base", stack)[logical_id].get("DeletionPolicy") == "Retain"
