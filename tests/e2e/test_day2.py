"""Day 2 on the emulator: each unsafe config change of issue #26 (findings 1-7) applied as a stack update of a
deployed app holding data, with the real CDK CLI — and what must hold afterwards: no object became unreadable, every
bucket behind the live MRAP keeps its replication and policy, the endpoint restriction is still there; or the change
was refused at synth, naming the key, before anything ran. Then adding a Region by the documented blue/green path.

The emulator models what these need (``tests/ops/test_day2_models.py``): a KMS key removed from a stack is pending
deletion and objects under it cannot be read; CloudFormation's cleanup phase (removed and replaced resources, a custom
resource's old physical id) with ``DeletionPolicy``/``UpdateReplacePolicy``; aws-cdk-lib's auto-delete handler; an
MRAP that cannot be replaced under its own name; an MRAP policy reset when its resource is deleted. Objects replicate
live (the data plane's replication engine), so an SSE-KMS object no rule selects stays where it was written.

One app (``SHARED``: two Regions, SSE-KMS, ``removal_policy: destroy``, PrivateLink in us-east-1 with the restriction)
serves findings 1-3 and 5-7: each test first brings it to the config it starts from (``App.ensure``: no deploy when
it is there already), so each passes alone and in any order. The blue/green test has its own app.
"""

from __future__ import annotations

import io
import json
import re
import time
from typing import Any

import pytest

from mrap_constructs.testing.dataplane.session import LocalDataPlane, Mrap
from mrap_constructs.testing.local_deploy import DeployError, LocalDeployment
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

REGIONS = ["us-east-1", "eu-west-1"]
HOME = "us-west-2"
QUIET = {"alarms": False, "dashboard": False}
SHARED: dict[str, Any] = {
    "name": "e2e-d2", "regions": REGIONS, "home_region": HOME, "encryption": "sse-kms", "removal_policy": "destroy",
    "monitoring": QUIET, "privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True},
}


class App:
    """A deployed app on the emulator: its config file, ``cdk deploy --all`` of a config, and what it holds."""

    def __init__(self, dataplane: LocalDataPlane, directory, name: str, regions: list[str]) -> None:
        self.dataplane = dataplane
        self.aws = dataplane.aws
        self.path = directory / f"{name}.json"
        self.deployment = LocalDeployment(self.aws, project=ROOT, config=str(self.path), out=io.StringIO(),
                                          regions=[*regions, HOME], assembly_dir=directory / "cdk.out")
        self.deployed: dict[str, Any] | None = None
        self.written: list[tuple[str, str, str, str, bytes]] = []  # (region, bucket, key, version, body)

    def deploy(self, config: dict[str, Any]) -> str:
        """``cdk deploy --all`` of ``config``; returns what the app printed at synth (its notes)."""
        self.path.write_text(json.dumps(config))
        try:
            self.deployment.synth()
        except DeployError as err:  # the app's own errors, not only the CLI's exit line
            pytest.fail("synth refused:\n" + "\n".join(ln for ln in err.output.splitlines() if "error" in ln))
        notes = self.deployment.last_synth_output
        self.deployment.deploy()
        self.deployment.record_lock()  # the lock records what was deployed (python -m mrap_constructs.lock record)
        self.deployed = config
        return notes

    def bootstrap(self, config: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(config))
        self.deployment.bootstrap()

    def ensure(self, config: dict[str, Any]) -> None:
        if self.deployed != config:
            self.deploy(config)

    def refused(self, config: dict[str, Any]) -> str:
        """Synthesize ``config``, which must fail; the app's error output. The file goes back to what is deployed."""
        self.path.write_text(json.dumps(config))
        try:
            with pytest.raises(DeployError) as raised:
                self.deployment.synth()
        finally:
            self.path.write_text(json.dumps(self.deployed))
        return raised.value.output

    # --- reading the deployed state -----------------------------------------------------------------------------

    def mrap(self, name: str) -> Mrap:
        return self.dataplane.mrap(name)

    def stack_versions(self) -> dict[str, tuple[str, str]]:
        """Every stack's (id, last update) in the app's Regions: equal before and after means nothing ran."""
        found = {}
        for region in {*REGIONS, *self._regions(), HOME}:
            for stack in self.aws.client("cloudformation", region).describe_stacks()["Stacks"]:
                found[stack["StackName"]] = (stack["StackId"], str(stack.get("LastUpdatedTime", "")))
        return found

    def _regions(self) -> list[str]:
        return list((self.deployed or {}).get("regions", []))

    def bucket_state(self, point: Mrap) -> dict[str, dict[str, Any]]:
        """Per Region behind ``point``: versioning, the replication destinations and the bucket policy."""
        state = {}
        for region, bucket in point.buckets.items():
            s3 = self.aws.client("s3", region)
            try:
                rules = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]["Rules"]
            except s3.exceptions.ClientError:
                rules = []
            try:
                policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
            except s3.exceptions.ClientError:
                policy = None
            state[region] = {"versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
                             "destinations": sorted(r["Destination"]["Bucket"] for r in rules if r["Status"] ==
                                                    "Enabled"),
                             "policy": policy}
        return state

    def mrap_policy(self, name: str) -> dict[str, Any]:
        control = self.aws.client("s3control", HOME)
        return json.loads(control.get_multi_region_access_point_policy(AccountId=self.aws.account, Name=name)[
            "Policy"]["Established"]["Policy"])

    # --- data -------------------------------------------------------------------------------------------------------

    def write(self, point: Mrap, key: str, body: bytes, **extra: Any) -> None:
        """Put ``key`` into every bucket behind ``point`` (straight to the bucket: the MRAP may be restricted to the
        VPC endpoints), wait until each is replicated everywhere, and remember every copy."""
        for region, bucket in point.buckets.items():
            name = f"{region}/{key}"
            self.aws.client("s3", region).put_object(Bucket=bucket, Key=name, Body=body, **extra)
            version = self.dataplane.wait_replicated(point, name, timeout=30)
            for other_region, other_bucket in point.buckets.items():
                self.written.append((other_region, other_bucket, name, version, body))

    def unreadable(self) -> list[str]:
        """Every written copy that cannot be read back (a GET decrypts: an unusable KMS key fails it)."""
        failed = []
        for region, bucket, key, version, body in self.written:
            try:
                got = self.aws.client("s3", region).get_object(Bucket=bucket, Key=key, VersionId=version)
                if got["Body"].read() != body:
                    failed.append(f"{bucket}/{key}: other content")
            except Exception as err:  # the error is the finding
                failed.append(f"{bucket}/{key}: {err}")
        return failed

    def key_states(self) -> dict[str, str]:
        states = {}
        for region in self._regions():
            kms = self.aws.client("kms", region)
            for key in kms.list_keys()["Keys"]:
                states[key["KeyArn"]] = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
        return states


@pytest.fixture(scope="module")
def dataplane():
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the CDK CLI is not installed: run `make test` (npm ci)")
    with LocalDataPlane(delay=0.01) as plane:
        yield plane


@pytest.fixture(scope="module")
def shared(dataplane, tmp_path_factory) -> App:
    app = App(dataplane, tmp_path_factory.mktemp("day2-shared"), SHARED["name"], REGIONS)
    app.bootstrap(SHARED)
    return app


def _assert_intact(app: App, point: Mrap, before: dict[str, dict[str, Any]]) -> None:
    """No copy became unreadable; every bucket behind ``point`` (the live MRAP) kept versioning, replication and
    its policy."""
    assert app.unreadable() == []
    after = app.bucket_state(point)
    assert after == before
    for region, state in after.items():
        assert state["versioning"] == "Enabled", region
        assert len(state["destinations"]) == len(point.buckets) - 1, f"{region} replicates to every other Region"
        assert state["policy"] is not None, f"{region} keeps its bucket policy"


def _restriction(app: App, name: str) -> list[str]:
    """The VPC endpoint ids the MRAP policy's Deny allows (empty: no restriction)."""
    denies = [s for s in app.mrap_policy(name)["Statement"] if s["Effect"] == "Deny"]
    return sorted(v for s in denies for v in s.get("Condition", {}).get("StringNotEquals", {}).get(
        "aws:SourceVpce", []))


def _endpoint_ids(app: App) -> list[str]:
    endpoints = app.aws.client("ec2", "us-east-1").describe_vpc_endpoints()["VpcEndpoints"]
    return sorted(e["VpcEndpointId"] for e in endpoints if e["ServiceName"] == "com.amazonaws.s3-global.accesspoint")


# --- finding 1: sse-kms -> sse-s3 with removal_policy destroy ----------------------------------------------------


def test_1_sse_kms_to_sse_s3_keeps_every_kms_object_readable(shared):
    """The keys leave the template but are retained: nothing is scheduled for deletion, every SSE-KMS object and
    replica still decrypts (the emulator fails a GET under a key pending deletion, as S3 does)."""
    shared.ensure(SHARED)
    point = shared.mrap(SHARED["name"])
    shared.write(point, "kms-era.txt", b"encrypted under the Region's key")
    assert {c[2] for c in shared.written} and shared.unreadable() == []
    before = shared.bucket_state(point)
    keys_before = shared.key_states()
    # One key per Region, or more when an earlier switch back to SSE-KMS made new ones (the old ones retained).
    assert len(keys_before) >= len(REGIONS) and set(keys_before.values()) == {"Enabled"}

    shared.deploy({**SHARED, "encryption": "sse-s3"})

    assert shared.key_states() == keys_before, "no key pending deletion"
    assert shared.unreadable() == []
    after = shared.bucket_state(point)
    assert {r: (s["versioning"], s["destinations"], s["policy"] is not None) for r, s in after.items()} == \
        {r: (s["versioning"], s["destinations"], s["policy"] is not None) for r, s in before.items()}


# --- findings 2 and 3: a bucket rename --------------------------------------------------------------------------


@pytest.mark.parametrize("removal_policy", ["destroy", "retain"])
def test_2_3_bucket_rename_is_refused_before_anything_runs(shared, removal_policy):
    """``bucket_prefix`` changed (with ``allow_replacement``): new empty buckets, the old ones emptied (destroy) or
    stripped of replication and policy (retain) while the live MRAP still serves them. Refused at synth, naming the
    key; nothing deployed changes."""
    shared.ensure(SHARED)
    point = shared.mrap(SHARED["name"])
    shared.write(point, f"before-rename-{removal_policy}.txt", b"must survive")
    before, stacks = shared.bucket_state(point), shared.stack_versions()

    output = shared.refused({**SHARED, "removal_policy": removal_policy, "bucket_prefix": "e2e-d2-renamed",
                             "allow_replacement": True})

    assert "bucket_prefix" in output, output
    assert shared.stack_versions() == stacks, "nothing was deployed"
    _assert_intact(shared, point, before)


# --- finding 4: adding a Region under the same MRAP name ------------------------------------------------------------


def test_4_adding_a_region_under_the_same_mrap_name_is_refused(shared):
    """The MRAP's Regions require replacement and its name is taken: the access-point stack would roll back. Refused
    at synth, naming ``access_point_name`` (the blue/green path)."""
    shared.ensure(SHARED)
    stacks = shared.stack_versions()

    output = shared.refused({**SHARED, "regions": [*REGIONS, "ap-southeast-2"], "allow_replacement": True})

    assert "access_point_name" in output, output
    assert shared.stack_versions() == stacks


# --- finding 5: sse-s3 -> sse-kms ---------------------------------------------------------------------------------


def test_5_switch_to_sse_kms_replicates_every_object_written_meanwhile(shared):
    """Two deploys: the first makes the rules select SSE-KMS objects while the buckets still default to SSE-S3; the
    second makes KMS the default. An object written with SSE-KMS between (or after) them replicates (S3 replicates
    SSE-KMS objects only when a rule selects them:
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)."""
    start = {**SHARED, "encryption": "sse-s3"}
    shared.ensure(start)
    point = shared.mrap(SHARED["name"])
    before = shared.bucket_state(point)

    kms = {**start, "encryption": "sse-kms"}
    notes = shared.deploy(kms)  # deploy 1: keys and rules selecting SSE-KMS objects; buckets still SSE-S3
    assert "sse-kms" in notes.lower() or "kms" in notes, notes
    for region, bucket in point.buckets.items():
        rule = shared.aws.client("s3", region).get_bucket_encryption(Bucket=bucket)[
            "ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] == "AES256", f"{region}: still SSE-S3 by default after deploy 1"
    shared.write(point, "between-the-deploys.txt", b"kms, explicitly", ServerSideEncryption="aws:kms")
    shared.deploy(kms)  # deploy 2: KMS by default
    shared.write(point, "after-the-switch.txt", b"kms by default")

    heads = [shared.aws.client("s3", r).head_object(Bucket=b, Key=k, VersionId=v) for r, b, k, v, _ in
             shared.written if k.endswith("-the-switch.txt")]
    assert heads and {h["ServerSideEncryption"] for h in heads} == {"aws:kms"}
    _assert_intact(shared, point, {r: {**s, "policy": shared.bucket_state(point)[r]["policy"]}
                                   for r, s in before.items()})


# --- finding 6: restrict_to_endpoints on -> off -> on ------------------------------------------------------------


def test_6_restriction_toggled_off_and_on_ends_restricted(shared):
    """The MRAP policy has one owner whatever ``restrict_to_endpoints`` says: toggled off (a note names the stack
    left behind) and on again, the Deny naming the VPC endpoint is in force."""
    shared.ensure(SHARED)
    name = SHARED["name"]
    endpoints = _endpoint_ids(shared)
    assert endpoints and _restriction(shared, name) == endpoints

    off = {**SHARED, "privatelink": {**SHARED["privatelink"], "restrict_to_endpoints": False}}
    notes = shared.deploy(off)
    assert _restriction(shared, name) == [], "off: the MRAP is reachable without the endpoint"
    assert "note:" in notes and "access-point-policy" in notes, notes

    shared.deploy(SHARED)
    assert _restriction(shared, name) == _endpoint_ids(shared), "on again: restricted to the endpoint"


# --- finding 7: one-way replication with another Region active --------------------------------------------------


def test_7_one_way_with_an_active_region_other_than_the_source_is_refused(shared):
    """Writes routed to the only active Region would never replicate. Refused at synth naming both keys."""
    shared.ensure(SHARED)
    stacks = shared.stack_versions()
    change = {**SHARED, "replication": {"mode": "one-way", "source_region": "us-east-1"},
              "failover": {"active": ["eu-west-1"]}}

    output = shared.refused(change)

    assert "failover.active" in output and "replication.source_region" in output, output
    assert "failover.accept_unreplicated_writes" in output, "the explicit acknowledgement is named"
    assert shared.stack_versions() == stacks


# --- adding a Region: blue/green MRAP ----------------------------------------------------------------------------

BLUE_GREEN: dict[str, Any] = {"name": "e2e-bg", "regions": REGIONS, "home_region": HOME, "monitoring": QUIET}


def test_adding_a_region_converges_by_a_blue_green_mrap(dataplane, tmp_path_factory):
    """docs/operations.md: a new ``access_point_name`` (with ``allow_replacement``) and the new Region create the new
    MRAP beside the old one (kept, still serving), clients move to the new alias, and the printed command retires the
    old MRAP."""
    app = App(dataplane, tmp_path_factory.mktemp("day2-bg"), BLUE_GREEN["name"], [*REGIONS, "ap-southeast-2"])
    app.bootstrap(BLUE_GREEN)
    app.deploy(BLUE_GREEN)
    blue = app.mrap("e2e-bg")
    s3 = dataplane.s3_client("us-east-1")
    s3.put_object(Bucket=blue.arn, Key="written-through-blue.txt", Body=b"blue")
    dataplane.wait_replicated(blue, "written-through-blue.txt")
    before = app.bucket_state(blue)

    notes = app.deploy({**BLUE_GREEN, "regions": [*REGIONS, "ap-southeast-2"], "access_point_name": "e2e-bg-green",
                        "allow_replacement": True})

    green = app.mrap("e2e-bg-green")
    assert sorted(green.buckets) == sorted([*REGIONS, "ap-southeast-2"])
    assert app.mrap("e2e-bg").alias == blue.alias, "the old MRAP stays, serving its buckets"
    assert {r: s["versioning"] for r, s in app.bucket_state(blue).items()} == \
        {r: s["versioning"] for r, s in before.items()}
    # Clients move to the new alias: what was written through the old one reads through the new one.
    assert s3.get_object(Bucket=green.arn, Key="written-through-blue.txt")["Body"].read() == b"blue"
    rules = app.bucket_state(green)
    assert all(len(state["destinations"]) == 2 for state in rules.values()), rules
    s3.put_object(Bucket=green.arn, Key="written-through-green.txt", Body=b"green")
    dataplane.wait_replicated(green, "written-through-green.txt")  # into the new Region too

    # The old one is retired by the command the deploy printed.
    command = next(line for line in notes.splitlines() if "delete-multi-region-access-point" in line)
    assert re.search(r"--details Name=e2e-bg$", command.strip()), command
    assert f"--account-id {app.aws.account}" in command, command
    control = app.aws.client("s3control", HOME)  # what the printed AWS CLI command calls
    control.delete_multi_region_access_point(AccountId=app.aws.account, ClientToken=str(time.time()),
                                             Details={"Name": re.search(r"Name=([\w-]+)", command)[1]})
    names = [p["Name"] for p in control.list_multi_region_access_points(AccountId=app.aws.account)["AccessPoints"]]
    assert "e2e-bg" not in names and "e2e-bg-green" in names
    assert s3.get_object(Bucket=green.arn, Key="written-through-green.txt")["Body"].read() == b"green"
