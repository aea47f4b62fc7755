"""The shell lines `make deploy-local KEEP=1` prints work as printed against the running emulator, and stopping it
(Ctrl-C, SIGTERM) ends with one line and leaves no temporary files (the CA folder with its credentials files)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from types import SimpleNamespace

import pytest

from mrap_constructs.testing.dataplane import LocalDataPlane
from mrap_constructs.testing.dataplane.proxy import apply_block
from mrap_constructs.testing.emulator import LocalAws
from scripts.deploy_local import keep_commands
from tests.conftest import ROOT

REGIONS = ["eu-west-1", "us-east-1"]


@pytest.fixture
def kept(bucket_factory):
    """A running emulator holding an MRAP "media", with its data plane, as KEEP=1 leaves it; the block pasted."""
    with LocalAws() as aws:
        aws.reset()  # moto's backends are per process, not per server
        for region in REGIONS:
            bucket_factory(aws.client("s3", region), f"media-{region}")
        aws.client("s3control", "us-west-2").create_multi_region_access_point(
            AccountId=aws.account, ClientToken="t",
            Details={"Name": "media", "Regions": [{"Bucket": f"media-{r}"} for r in REGIONS]})
        with LocalDataPlane(aws, client_region="eu-west-1") as dataplane:
            yield SimpleNamespace(aws=aws, dataplane=dataplane, account=aws.account,
                                  env=apply_block(dataplane.export_lines(), os.environ))


def _shell(lines: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-ec", "\n".join(lines)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_printed_mrap_lines_work(kept):
    _, status, failover = keep_commands(kept.aws.endpoint_url, kept.account, "media")
    result = _shell([status, failover.replace("REGION", "eu-west-1")], kept.env)
    assert result.returncode == 0, result.stderr
    assert "media" in result.stdout and "applied:" in result.stdout


@pytest.mark.skipif(shutil.which("aws") is None, reason="no AWS CLI on PATH")
def test_printed_aws_cli_line_works(kept):
    aws_cli, _, _ = keep_commands(kept.aws.endpoint_url, kept.account, "media")
    result = _shell([aws_cli], kept.env)
    assert result.returncode == 0, result.stderr
    assert '"Name": "media"' in result.stdout


def test_the_proxy_route_with_boto3(kept):
    """What the AWS CLI line does, in boto3: s3control's account-prefixed host (``123456789012.127.0.0.1``, which
    does not resolve) sent through the block's HTTP_PROXY, which hands it to the emulator."""
    import boto3
    from botocore.config import Config

    control = boto3.client("s3control", region_name="us-west-2", endpoint_url=kept.aws.endpoint_url,
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(proxies={"http": kept.env["HTTP_PROXY"]}))
    point = control.get_multi_region_access_point(AccountId=kept.account, Name="media")["AccessPoint"]
    assert point["Name"] == "media"
    assert control.meta.endpoint_url == kept.aws.endpoint_url
    assert kept.dataplane.proxy.refused == []


def test_a_forwarded_response_has_one_date_header(kept):
    """The proxy passes the emulator's Date on and adds none of its own: two would make clients that correct for clock
    skew from it fail (the CDK CLI: "Invalid time value")."""
    import urllib3

    proxy = urllib3.ProxyManager(kept.env["HTTP_PROXY"])
    response = proxy.request("GET", f"{kept.aws.endpoint_url}/moto-api/data.json", retries=False)
    assert response.status == 200 and len(response.headers.getlist("Date")) == 1


def test_the_proxy_refuses_plain_requests_for_anything_but_the_emulator(kept):
    import urllib3

    proxy = urllib3.ProxyManager(kept.env["HTTP_PROXY"].replace("eu-west-1:client-region@", ""))
    for url in ("http://example.com/", f"http://127.0.0.1:{kept.dataplane.proxy.port}/",
                kept.aws.endpoint_url.replace("http:", "https:") + "/"):
        if url.startswith("https:"):
            with pytest.raises(urllib3.exceptions.ProxyError, match="403"):  # the CONNECT, refused
                proxy.request("GET", url, retries=False)
        else:
            assert proxy.request("GET", url, retries=False).status == 403
    assert len(kept.dataplane.proxy.refused) == 3


#: Runs deploy_local.main() with --keep and a stand-in for the deploy (an emulator, no CDK), then serves as --keep
#: does: the real _keep, signal handling and output; the library import starts jsii's kernel as in a real run.
KEEP_WITHOUT_DEPLOY = textwrap.dedent("""
    import sys
    from types import SimpleNamespace
    sys.argv = ["deploy_local.py", "--keep"]
    from scripts import deploy_local
    from mrap_constructs.testing.emulator import LocalAws

    def deploy(config, args):
        with LocalAws() as aws:
            deployment = SimpleNamespace(account=aws.account, accounts=lambda: {aws.account: config.regions})
            deploy_local._keep(aws, config, deployment, args)

    deploy_local._deploy = deploy
    sys.exit(deploy_local.main())
""")


def _lines_until(stream, marker: str, timeout: float = 120) -> list[str]:
    """Lines of ``stream`` up to the first starting with ``marker`` (read on a thread, so a hang fails the test)."""
    found: queue.Queue = queue.Queue()

    def read() -> None:
        for line in stream:
            found.put(line)
        found.put(None)

    threading.Thread(target=read, daemon=True).start()
    lines, deadline = [], time.monotonic() + timeout
    while True:
        line = found.get(timeout=max(0.1, deadline - time.monotonic()))
        assert line is not None, "exited before: " + "".join(lines)
        lines.append(line)
        if line.startswith(marker):
            return lines


@pytest.mark.parametrize("stop, cause", [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_stopping_keep_prints_one_line_and_removes_the_temporary_files(stop, cause):
    from scripts.deploy_local import READY

    env = {**os.environ, "PYTHONPATH": str(ROOT), "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1"}
    # A session of its own: the signal goes to the whole group, as a terminal's Ctrl-C does.
    process = subprocess.Popen([sys.executable, "-c", KEEP_WITHOUT_DEPLOY], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        printed = _lines_until(process.stdout, READY)
        block = apply_block(printed, {})
        folder = os.path.dirname(block["AWS_CA_BUNDLE"])
        assert os.path.isdir(folder) and os.path.isfile(block["AWS_SHARED_CREDENTIALS_FILE"])
        os.killpg(process.pid, stop)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0
    assert err.splitlines() == [f"stopped ({cause}): emulator and data plane shut down, temporary files removed"]
    assert not os.path.exists(folder)


#: What the CDK CLI (2.x, as pinned in package.json) prints when a stack fails on the emulator.
CLI_FAILURE = """\
missing-replication-eu-west-1: deploying... [4/4]
❌  missing-replication-eu-west-1 failed to deploy
‣ DeploymentError: The stack named missing-replication-eu-west-1 failed creation, it may need to be manually deleted \
from the AWS console: ROLLBACK_COMPLETE (NoSuchBucket: An error occurred (NoSuchBucket) when calling the \
PutBucketReplication operation: The specified bucket does not exist)
"""


def test_deploy_error_names_the_stack_and_the_cause():
    from mrap_constructs.testing.local_deploy import DeployError

    error = DeployError.from_output("deploy", CLI_FAILURE, 1)
    assert error.stack == "missing-replication-eu-west-1"
    assert str(error) == ("missing-replication-eu-west-1: NoSuchBucket: An error occurred (NoSuchBucket) when calling "
                          "the PutBucketReplication operation: The specified bucket does not exist (ROLLBACK_COMPLETE)")
    bootstrap = DeployError.from_output(
        "bootstrap", " ❌  Environment aws://210987654321/eu-west-1 failed bootstrapping: Error: no credentials", 1)
    assert str(bootstrap) == "aws://210987654321/eu-west-1: no credentials"
    assert str(DeployError.from_output("synth", "x\nerror: mrap.name: required key is missing\n", 1)) == \
        "cdk synth: error: mrap.name: required key is missing"


def test_a_failed_deploy_prints_one_line_and_exits_1(monkeypatch, capsys, tmp_path):
    from mrap_constructs.testing.local_deploy import DeployError
    from scripts import deploy_local

    def fail(config, args):
        raise DeployError.from_output("deploy", CLI_FAILURE, 1)

    monkeypatch.setattr(deploy_local, "_deploy", fail)
    monkeypatch.setattr("sys.argv", ["deploy_local.py"])
    assert deploy_local.main() == 1
    err = capsys.readouterr().err
    assert err.startswith("error: missing-replication-eu-west-1: NoSuchBucket: ") and err.count("\n") == 1

    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "bad-config", "regions": ["us-east-1"], "account": "12"}')
    monkeypatch.setattr("sys.argv", ["deploy_local.py", "--config", str(bad)])
    assert deploy_local.main() == 1
    err = capsys.readouterr().err
    assert err.startswith("error: mrap.account=") and "Traceback" not in err


def test_the_deploy_line_names_only_the_waves_the_config_has():
    from scripts.deploy_local import wave_line
    from stacks.config import parse_config

    base = {"name": "media", "regions": ["us-east-1", "eu-west-1"]}
    assert wave_line(parse_config(base)) == "wave 1: buckets; wave 2: replication, MRAP"
    assert wave_line(parse_config({**base, "privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True}})) \
        == ("wave 1: buckets; wave 2: replication, MRAP; wave 3: PrivateLink; "
            "wave 4: the MRAP policy restricted to the endpoints")
    assert wave_line(parse_config({**base, "cloudfront": {}})) == \
        "wave 1: buckets; wave 2: replication, MRAP; wave 3: CloudFront (the MRAP policy)"
