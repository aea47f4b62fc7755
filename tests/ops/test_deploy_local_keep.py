"""`make deploy-local KEEP=1` as a new user runs it: a config naming its own account, a bucket in a second account
and a 50-character MRAP name; everything printed is pasted, in order, into a shell that holds settings for real AWS;
an unchanged boto3 program then puts, gets and sees replication through the MRAP ARN, calls the control plane, acts
in both accounts, and reaches nothing but 127.0.0.1; the user's own `cdk deploy` (change sets) works in that shell;
Ctrl-C ends it with one line and no temporary files left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from mrap_constructs.testing.dataplane.proxy import apply_block
from scripts.deploy_local import READY
from tests.conftest import ROOT
from tests.dataplane.test_keep_block import REAL_AWS_SHELL
from tests.offline_guard import SELF_TEST, attempts, guarded
from tests.ops.test_deploy_local_script import _lines_until

pytestmark = pytest.mark.e2e

ACCOUNT, OTHER = "210987654321", "210987654322"
NAME = "keep-" + "x" * 40 + "-name"  # 50 characters, the most AWS accepts
CONFIG = {"name": NAME, "bucket_prefix": "keep-e2e", "account": ACCOUNT, "regions": ["us-east-1", "eu-west-1"],
          "bucket_accounts": {"eu-west-1": OTHER}, "monitoring": {"alarms": False, "dashboard": False}}

PROGRAM = SELF_TEST + textwrap.dedent("""
    import json, sys, time
    import boto3
    arn, name, account, other = sys.argv[1:5]
    s3 = boto3.client("s3")
    put = s3.put_object(Bucket=arn, Key="pasted.txt", Body=b"hello")
    got = s3.get_object(Bucket=arn, Key="pasted.txt")
    out = {"served_by": put["ResponseMetadata"]["HTTPHeaders"].get("x-mrap-emulator-region"),
           "body": got["Body"].read().decode(), "version": put["VersionId"]}
    theirs = boto3.Session(profile_name=f"mrap-{other}").client("s3", region_name="eu-west-1")
    deadline = time.monotonic() + 60
    while True:  # replication is asynchronous: poll the replica (no fixed wait)
        try:
            out["replica"] = theirs.head_object(Bucket=f"keep-e2e-{other}-eu-west-1", Key="pasted.txt")["VersionId"]
            break
        except theirs.exceptions.ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    control = boto3.client("s3control", region_name="us-west-2")
    out["alias"] = control.get_multi_region_access_point(AccountId=account, Name=name)["AccessPoint"]["Alias"]
    out["accounts"] = [boto3.client("sts").get_caller_identity()["Account"],
                       boto3.Session(profile_name=f"mrap-{other}").client("sts").get_caller_identity()["Account"]]
    print(json.dumps(out))
""")


def test_keep_prints_one_block_that_an_unchanged_program_uses_and_ctrl_c_cleans_up(tmp_path):
    config = tmp_path / "my.json"
    config.write_text(json.dumps(CONFIG))
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
           "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1", "CDK_DISABLE_VERSION_CHECK": "1"}
    process = subprocess.Popen([sys.executable, "scripts/deploy_local.py", "--config", str(config), "--keep"],
                               cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        printed = _lines_until(process.stdout, READY, timeout=600)
        assert sum(line.startswith("unset ") for line in printed) == 1
        assert sum(line.startswith("export AWS_ENDPOINT_URL=") for line in printed) == 1  # one block, not two
        arn = next(line.split()[1] for line in printed if line.startswith("ARN "))
        shell = guarded(apply_block(printed, {**os.environ, **REAL_AWS_SHELL}), tmp_path)
        result = subprocess.run([sys.executable, "-c", PROGRAM, arn, NAME, ACCOUNT, OTHER], env=shell,
                                capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout.splitlines()[-1])
        assert arn == f"arn:aws:s3::{ACCOUNT}:accesspoint/{out['alias']}"
        assert (out["served_by"], out["body"]) == ("us-east-1", "hello")
        assert out["replica"] == out["version"]
        assert out["accounts"] == [ACCOUNT, OTHER]
        assert attempts(tmp_path) == []
        # The user's own `cdk deploy` in that shell, with the CLI's default method (change sets).
        second = tmp_path / "second.json"
        second.write_text(json.dumps({"name": "second-app", "account": ACCOUNT, "regions": ["us-east-1"],
                                      "monitoring": {"alarms": False, "dashboard": False}}))
        deploy = subprocess.run([os.path.join(ROOT, "node_modules", ".bin", "cdk"), "deploy", "--all", "-c",
                                 f"config={second}", "--require-approval", "never", "--no-notices", "-o",
                                 str(tmp_path / "cdk.out"),
                                 # not cdk.json's cdk-outputs.json in the checkout: the lock check of every later
                                 # synth there would read it as a deployment of this config
                                 "--outputs-file", str(tmp_path / "cdk-outputs.json")], cwd=ROOT,
                                env={**apply_block(printed, {**env, **REAL_AWS_SHELL}),
                                     "CDK_DISABLE_VERSION_CHECK": "1"},
                                capture_output=True, text=True, timeout=600)
        assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr[-3000:]
        check = subprocess.run([sys.executable, "-c", SELF_TEST + "import boto3; print(boto3.client('s3control', "
                                f"region_name='us-west-2').get_multi_region_access_point(AccountId='{ACCOUNT}', "
                                "Name='second-app')['AccessPoint']['Status'])"], env=shell, capture_output=True,
                               text=True, timeout=60)
        assert check.stdout.strip() == "READY", check.stderr
        folder = os.path.dirname(shell["AWS_CA_BUNDLE"])
        assert os.path.isdir(folder)
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0
    assert err.splitlines() == ["stopped (Ctrl-C): emulator and data plane shut down, temporary files removed"]
    assert not os.path.exists(folder)
