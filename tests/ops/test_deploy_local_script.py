"""The shell lines `make deploy-local KEEP=1` prints work as printed against the running emulator."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from mrap_constructs.testing.emulator import LocalAws
from scripts.deploy_local import keep_commands
from tests.conftest import ROOT

REGIONS = ["eu-west-1", "us-east-1"]


@pytest.fixture
def kept(bucket_factory):
    """A running emulator holding an MRAP "media", as KEEP=1 leaves it."""
    with LocalAws() as aws:
        aws.reset()  # moto's backends are per process, not per server
        for region in REGIONS:
            bucket_factory(aws.client("s3", region), f"media-{region}")
        aws.client("s3control", "us-west-2").create_multi_region_access_point(
            AccountId=aws.account, ClientToken="t",
            Details={"Name": "media", "Regions": [{"Bucket": f"media-{r}"} for r in REGIONS]})
        yield aws


def _shell(lines: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k.upper() not in ("HTTP_PROXY",
                                                                                                  "NO_PROXY")}
    return subprocess.run(["bash", "-ec", "\n".join(lines)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_printed_mrap_lines_work(kept):
    export, _, status, failover = keep_commands(kept.endpoint_url, kept.account, "media")
    result = _shell([export, status, failover.replace("REGION", "eu-west-1")])
    assert result.returncode == 0, result.stderr
    assert "media" in result.stdout and "applied:" in result.stdout


@pytest.mark.skipif(shutil.which("aws") is None, reason="no AWS CLI on PATH")
def test_printed_aws_cli_line_works(kept):
    export, aws_cli, _, _ = keep_commands(kept.endpoint_url, kept.account, "media")
    result = _shell([export, aws_cli])
    assert result.returncode == 0, result.stderr
    assert '"Name": "media"' in result.stdout


def test_the_proxy_route_with_boto3(kept):
    """What the AWS CLI line does, in boto3: s3control's account-prefixed host, sent through the emulator as proxy."""
    import boto3
    from botocore.config import Config

    control = boto3.client("s3control", region_name="us-west-2", endpoint_url=kept.endpoint_url,
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(proxies={"http": kept.endpoint_url}))
    point = control.get_multi_region_access_point(AccountId=kept.account, Name="media")["AccessPoint"]
    assert point["Name"] == "media"
    assert control.meta.endpoint_url == kept.endpoint_url


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
