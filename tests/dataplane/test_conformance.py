"""The conformance suite against the project's emulator: every documented MRAP behaviour of the case library
(``mrap_constructs.testing.conformance.cases``, each with its AWS source) passes, or is a known deviation below.

One world (two buckets, rules, policies, one MRAP) is created per module on the session's emulator; every case uses
its own keys and restores what it changes (dials, the MRAP policy), so the cases pass alone and in any order.

KNOWN_DEVIATIONS: cases the emulator fails today, each ``xfail(strict=True)`` so the fix is noticed. The integrator
removes an entry when the branch named in it is merged (a strict xfail that starts passing fails the suite).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mrap_constructs.testing.conformance import CASES, EmulatorTarget, World, run_case

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

KNOWN_DEVIATIONS: dict[str, str] = {}


#: Deviations that show only sometimes (a race in the emulator): xfail, not strict, until fixed.
RACES: dict[str, str] = {}


def _param(case: object) -> object:
    reason = KNOWN_DEVIATIONS.get(case.id)  # type: ignore[attr-defined]
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if case.id in RACES:  # type: ignore[attr-defined]
        marks = [pytest.mark.xfail(strict=False, reason=RACES[case.id])]  # type: ignore[attr-defined]
    return pytest.param(case, id=case.id, marks=marks)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def world(mrap_dataplane) -> Iterator[World]:
    mrap_dataplane.engine.reset()
    mrap_dataplane.aws.reset()
    mrap_dataplane.engine.paused.set()
    target = EmulatorTarget(mrap_dataplane)
    target.start()
    made = World(target)
    made.create()
    assert made.failed == {}, made.failed
    yield made
    assert made.delete() == []


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.check is not None])
def test_emulator_behaves_as_aws_documents(case, world: World) -> None:
    result = run_case(case, world)
    assert result.outcome == "pass", f"{case.id} ({case.source}): {result.outcome}: {result.detail}"


@pytest.mark.parametrize("case", [c for c in CASES if c.check is None], ids=lambda c: c.id)
def test_what_is_not_modelled_is_listed_in_the_data_plane_docs(case) -> None:
    assert f"`{case.id}`" in (ROOT / "docs" / "dataplane.md").read_text(), \
        f"{case.id} is not modelled: list it in docs/dataplane.md, 'What is not faithful'"


def test_every_deviation_names_a_case() -> None:
    assert set(KNOWN_DEVIATIONS) | set(RACES) <= {c.id for c in CASES}
