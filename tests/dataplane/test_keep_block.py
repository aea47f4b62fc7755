"""The one block the data plane prints (``make deploy-local KEEP=1``, ``LocalDataPlane.export_lines``), pasted whole
into a shell that already holds settings for real AWS, serves an unchanged boto3 program locally: MRAP requests,
plain S3 and control-plane calls, in the accounts and from the client Region the block names. A program run with it
looks up no host name and connects to nothing but 127.0.0.1 (``tests/offline_guard.py`` fails it otherwise)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from mrap_constructs.testing.dataplane.proxy import PROXY_PASSWORD, apply_block
from tests.offline_guard import SELF_TEST, attempts, guarded

pytestmark = pytest.mark.e2e

THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"]
#: The longest MRAP name AWS accepts: 3-50 characters (S3 User Guide, "Multi-Region Access Point restrictions and
#: limitations", https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html).
LONG_NAME = "long-" + "n" * 40 + "-name"
#: What a user's shell may hold for real AWS: each would send requests past the proxy or act elsewhere.
REAL_AWS_SHELL = {"NO_PROXY": "*", "no_proxy": "*", "https_proxy": "http://192.0.2.1:3128",
                  "AWS_ENDPOINT_URL_S3": "https://s3.amazonaws.com", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                  "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_PROFILE": "production",
                  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}

PROGRAM = SELF_TEST + textwrap.dedent("""
    import json, sys, time
    import boto3
    arn, name, account, other_bucket, other_region = sys.argv[1:6]
    s3 = boto3.client("s3")
    put = s3.put_object(Bucket=arn, Key="pasted.txt", Body=b"through the block")
    got = s3.get_object(Bucket=arn, Key="pasted.txt")
    region_header = "x-mrap-emulator-region"
    out = {"put_served_by": put["ResponseMetadata"]["HTTPHeaders"].get(region_header),
           "body": got["Body"].read().decode(), "version": put["VersionId"]}
    plain = boto3.client("s3", region_name=other_region)
    deadline = time.monotonic() + 30
    while True:  # replication is asynchronous: poll the other bucket (no fixed wait)
        try:
            out["replica_version"] = plain.head_object(Bucket=other_bucket, Key="pasted.txt")["VersionId"]
            break
        except plain.exceptions.ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    control = boto3.client("s3control", region_name="us-west-2")
    out["alias"] = control.get_multi_region_access_point(AccountId=account, Name=name)["AccessPoint"]["Alias"]
    out["caller"] = boto3.client("sts").get_caller_identity()["Account"]
    try:
        boto3.client("s3", endpoint_url="https://s3.amazonaws.com").list_buckets()
        out["outside"] = "reached"
    except Exception as err:
        out["outside"] = type(err).__name__
    print(json.dumps(out))
""")


def _pasted(mrap, tmp_path, base: dict[str, str]) -> dict[str, str]:
    return guarded(apply_block(mrap.dataplane.export_lines(), base), tmp_path)


@pytest.mark.mrap(regions=THREE, client_region="eu-west-1", name=LONG_NAME, bucket_prefix="long")
def test_the_pasted_block_serves_a_50_character_mrap_locally(mrap, tmp_path):
    env = _pasted(mrap, tmp_path, {**os.environ, **REAL_AWS_SHELL})
    assert env["AWS_ENDPOINT_URL"] == mrap.dataplane.aws.endpoint_url  # the control plane is in the same block
    assert not {"NO_PROXY", "no_proxy", "https_proxy", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_PROFILE",
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} & set(env)
    result = subprocess.run([sys.executable, "-c", PROGRAM, mrap.arn, LONG_NAME, mrap.dataplane.aws.account,
                             mrap.buckets["us-east-1"], "us-east-1"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    # AWS's alias shape: 13 lowercase letters/digits + ".mrap" (S3 User Guide, "Rules for naming Amazon S3
    # Multi-Region Access Points"); the host stays short whatever the name's length.
    assert re.fullmatch(r"[a-z0-9]{13}\.mrap", out["alias"]) and out["alias"] == mrap.alias
    assert (out["put_served_by"], out["body"]) == ("eu-west-1", "through the block")
    assert out["replica_version"] == out["version"]
    assert out["caller"] == mrap.dataplane.aws.account
    assert out["outside"] == "ProxyConnectionError" and "s3.amazonaws.com:443" in mrap.dataplane.proxy.refused
    assert [(r.method, r.region) for r in mrap.dataplane.plane.log] == [("PUT", "eu-west-1"), ("GET", "eu-west-1")]
    assert attempts(tmp_path) == []


@pytest.mark.mrap(regions=THREE)
def test_each_account_of_the_block_is_a_profile(mrap, tmp_path):
    mrap.dataplane.account, mrap.dataplane.accounts = "210987654321", ["210987654322"]
    try:
        env = _pasted(mrap, tmp_path, {**os.environ, **REAL_AWS_SHELL})
        program = SELF_TEST + textwrap.dedent("""
            import boto3
            print(boto3.client("sts").get_caller_identity()["Account"])
            for account in ("210987654321", "210987654322"):
                print(boto3.Session(profile_name=f"mrap-{account}").client("sts").get_caller_identity()["Account"])
        """)
        result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["210987654321", "210987654321", "210987654322"]
        other = subprocess.run([sys.executable, "-c", program.split("for account")[0]],
                               env={**env, "AWS_PROFILE": "mrap-210987654322"}, capture_output=True, text=True,
                               timeout=60)
        assert other.stdout.split() == ["210987654322"], other.stderr
    finally:
        mrap.dataplane.account, mrap.dataplane.accounts = None, []
    assert attempts(tmp_path) == []


REGION_PROGRAM = SELF_TEST + textwrap.dedent("""
    import sys
    import boto3
    s3 = boto3.client("s3")
    try:
        response = s3.head_object(Bucket=sys.argv[1], Key="k")
        print(response["ResponseMetadata"]["HTTPHeaders"]["x-mrap-emulator-region"])
    except s3.exceptions.ClientError as err:
        print(err.response["ResponseMetadata"]["HTTPStatusCode"], err.response["Error"]["Code"],
              err.response["Error"]["Message"])
""")


@pytest.mark.mrap(regions=THREE)
@pytest.mark.parametrize("client_region, served_by", [("ap-southeast-2", "ap-southeast-2"),
                                                       ("eu-central-1", "eu-west-1"), ("us-west-2", "us-east-1")])
def test_the_client_region_is_the_proxy_user_name(mrap, tmp_path, client_region, served_by):
    mrap.s3.put_object(Bucket=mrap.arn, Key="k", Body=b"x")
    mrap.wait_replicated("k")
    # Only the printed environment (nothing inherited) plus the Region, set as the block's comment says.
    env = _pasted(mrap, tmp_path, {"PATH": os.environ["PATH"]})
    default = env["AWS_REGION"]  # the block routes from the SDK's Region until told otherwise
    assert env["HTTPS_PROXY"].startswith(f"http://{default}:{PROXY_PASSWORD}@127.0.0.1:")
    env["HTTPS_PROXY"] = env["HTTPS_PROXY"].replace(f"//{default}:", f"//{client_region}:")
    result = subprocess.run([sys.executable, "-c", REGION_PROGRAM, mrap.arn], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == served_by
    assert attempts(tmp_path) == []


@pytest.mark.mrap(regions=THREE)
def test_an_unknown_client_region_is_an_s3_error_naming_the_variable(mrap, tmp_path):
    env = _pasted(mrap, tmp_path, {"PATH": os.environ["PATH"]})
    env["HTTPS_PROXY"] = env["HTTPS_PROXY"].replace(f"//{env['AWS_REGION']}:", "//mars-north-1:")
    result = subprocess.run([sys.executable, "-c", REGION_PROGRAM.replace("head_object", "get_object"), mrap.arn],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status, code, message = result.stdout.strip().split(" ", 2)
    assert (status, code) == ("400", "InvalidArgument")
    assert "'mars-north-1'" in message and "HTTPS_PROXY" in message and "eu-west-1" in message
    mrap.set_client_region("nowhere-1")  # the proxy's default, for a proxy URL without a Region
    with pytest.raises(mrap.s3.exceptions.ClientError) as err:
        mrap.s3.get_object(Bucket=mrap.arn, Key="k")
    assert err.value.response["Error"]["Code"] == "InvalidArgument"
    assert "MRAP_EMULATOR_CLIENT_REGION" in err.value.response["Error"]["Message"]
