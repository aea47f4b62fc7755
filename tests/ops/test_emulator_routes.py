"""`mrap routes` / `mrap failover --wait` against the emulator's server (what `make deploy-local KEEP=1` leaves
running): the routes API is served over HTTP, and `--endpoint-url` or `AWS_ENDPOINT_URL` points the CLI at it."""

from __future__ import annotations

import io
import json

import pytest

from mrap_constructs.ops import cli
from mrap_constructs.testing.emulator import LocalAws

REGIONS = ["eu-west-1", "us-east-1"]


@pytest.fixture(scope="module")
def server():
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def emulated(server, monkeypatch, bucket_factory):
    """An MRAP "media" over two versioned buckets, made on the running server; the shell of a KEEP=1 user."""
    server.reset()
    for key, value in server.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    for region in REGIONS:
        bucket_factory(server.client("s3", region), f"media-{region}")
    server.client("s3control", "us-west-2").create_multi_region_access_point(
        AccountId=server.account, ClientToken="t",
        Details={"Name": "media", "Regions": [{"Bucket": f"media-{r}"} for r in REGIONS]})
    return server


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_routes_and_failover_with_endpoint_url(emulated):
    code, out, err = _run("--endpoint-url", emulated.endpoint_url, "--json", "routes", "media")
    assert (code, err) == (0, "")
    assert [(r["region"], r["dial"]) for r in json.loads(out)["routes"]] == [("eu-west-1", 100), ("us-east-1", 100)]

    code, out, err = _run("--endpoint-url", emulated.endpoint_url, "failover", "media", "--to", "eu-west-1", "--wait")
    assert (code, err) == (0, "")
    assert "eu-west-1" in out and "passive" in out
    arn = next(iter(emulated.state.routes))
    assert emulated.state.routes[arn] == {"eu-west-1": 100, "us-east-1": 0}


def test_aws_endpoint_url_is_honoured(emulated, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulated.endpoint_url)
    code, out, err = _run("failover", "media", "--active", "us-east-1,eu-west-1", "--wait")
    assert (code, err) == (0, "")
    code, out, _ = _run("routes", "media")
    assert code == 0 and out.count("active") == 2


def test_errors_stay_one_line(emulated):
    code, out, err = _run("--endpoint-url", emulated.endpoint_url, "failover", "media", "--to", "ap-south-1")
    assert code == 1 and err.startswith("error: InvalidRegion") and err.count("\n") == 1


def test_help_documents_the_endpoint():
    assert "--endpoint-url" in cli.build_parser().format_help()
    assert "AWS_ENDPOINT_URL" in cli.build_parser().format_help()
