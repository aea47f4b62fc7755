"""The conformance suite's own machinery, without an emulator: the case library's shape, outcomes, the results
table, the AWS opt-in and clean-up, the endpoint target's redirect, the peer section."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from mrap_constructs.testing.conformance import CASES, EndpointTarget, Result, Skip, run_case, score, table
from mrap_constructs.testing.conformance import __main__ as cli
from mrap_constructs.testing.conformance.cases import Case

AREAS = {"operations", "restrictions", "control", "routing", "replication", "permissions"}


def test_at_least_forty_checked_cases_cover_every_area() -> None:
    checked = [c for c in CASES if c.check is not None]
    assert len(checked) >= 40
    assert {c.id.split(".", 1)[0] for c in checked} == AREAS


def test_every_case_cites_an_aws_source() -> None:
    for case in CASES:
        for source in case.source.split("; "):
            assert source.startswith(("https://docs.aws.amazon.com/", "botocore/data/")), (case.id, source)


def test_case_ids_are_unique_and_stable_looking() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(\.[a-z0-9-]+)+", i) for i in ids), ids


def test_not_modelled_cases_say_why() -> None:
    assert all(c.not_modelled for c in CASES if c.check is None)


def _world(failed: dict[str, str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(failed=failed or {})


def _case(check, needs=("buckets", "mrap")) -> Case:
    return Case("operations.example", "operations", "t", "https://docs.aws.amazon.com/x", check, needs)


def _raise(error: Exception):
    def check(world) -> None:
        raise error
    return check


@pytest.mark.parametrize(("check", "outcome"), [
    (lambda world: None, "pass"),
    (_raise(AssertionError("differs")), "fail"),
    (_raise(RuntimeError("boom")), "fail"),
    (_raise(Skip("no second account")), "skipped"),
])
def test_run_case_outcomes(check, outcome) -> None:
    assert run_case(_case(check), _world()).outcome == outcome


def test_a_failed_setup_stage_is_reported_for_the_cases_that_need_it() -> None:
    result = run_case(_case(lambda world: None, needs=("buckets", "mrap")), _world({"mrap": "NotImplemented: x"}))
    assert (result.outcome, result.detail) == ("setup failed", "mrap: NotImplemented: x")
    assert run_case(_case(lambda world: None, needs=("buckets",)), _world({"mrap": "x"})).outcome == "pass"


def test_score_counts_only_checked_cases() -> None:
    results = [Result("a", "pass"), Result("b", "fail"), Result("c", "setup failed"), Result("d", "skipped"),
               Result("e", "not modelled")]
    assert score(results) == "1/3 (33%)"


def test_table_has_a_column_per_target_and_escapes_details() -> None:
    first = CASES[0].id
    markdown = table({"emulator": {first: {"outcome": "fail", "detail": "a|b"}},
                      "peer": {first: {"outcome": "pass", "detail": ""}}}, ["emulator"])
    assert "| case | behaviour | AWS source | emulator | peer |" in markdown
    assert "fail: a\\|b" in markdown
    assert markdown.count("\n| `") == len(CASES)


def test_aws_is_refused_without_the_opt_in(monkeypatch, capsys) -> None:
    monkeypatch.delenv(cli.OPT_IN, raising=False)
    monkeypatch.setattr(cli, "AwsTarget", lambda **_: pytest.fail("must not touch AWS"))
    assert cli.main(["--target", "aws"]) == 2
    assert cli.OPT_IN in capsys.readouterr().err


def test_an_aws_run_deletes_what_it_made_when_setup_fails(monkeypatch) -> None:
    deleted = []

    class World:
        def create(self) -> None:
            raise RuntimeError("quota")

        def delete(self) -> list[str]:
            deleted.append(True)
            return []

    target = SimpleNamespace(start=lambda: None, stop=lambda: None)
    with pytest.raises(RuntimeError, match="quota"):
        cli._run_owned(target, [], World())
    assert deleted == [True]


def test_endpoint_target_sends_mrap_requests_to_its_url_with_the_mrap_host() -> None:
    target = EndpointTarget("http://127.0.0.1:4566")
    request = SimpleNamespace(url="https://abc.mrap.accesspoint.s3-global.amazonaws.com/k?x=1", headers={})
    target._redirect(request)
    assert request.url == "http://127.0.0.1:4566/k?x=1"
    assert request.headers["Host"] == "abc.mrap.accesspoint.s3-global.amazonaws.com"
    other = SimpleNamespace(url="https://sts.amazonaws.com/", headers={})
    target._redirect(other)
    assert other.url == "https://sts.amazonaws.com/"


def test_peer_section_reports_both_scores() -> None:
    from bench import conformance as bench

    entry = {"outcome": "pass", "detail": ""}
    data = {"emulator": {c.id: entry for c in CASES},
            bench.PEER: {c.id: {"outcome": "fail", "detail": "x"} for c in CASES}}
    lines = bench.section(data)
    assert lines[0] == bench.TITLE
    rows = [line for line in lines if line.startswith("| this project") or line.startswith(f"| `{bench.PEER}`")]
    assert len(rows) == 2
    assert f"| {len(CASES)}/{len(CASES)} (100%) |" in rows[0]
    assert "| 0/" in rows[1]
