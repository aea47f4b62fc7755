"""The deployed-state guard: the lock records what a deploy that succeeded deployed (keyed by set and account), and
a change that would replace the MRAP is refused (under the same name whatever the config says; under a new name
unless allowed)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mrap_constructs import MultiRegionAccessPoint
from mrap_constructs.lock import (
    LOCK_VERSION,
    PENDING_FILE,
    LockEntry,
    LockResult,
    ReplacementError,
    enforce_lock,
    find_entry,
    lock_key,
    lock_path_for,
    pending_entry,
    read_lock,
    record,
    replacement_changes,
    write_entry,
    write_pending,
)
from stacks.app_builder import orphaned_stack_commands
from stacks.config import parse_config
from tests.conftest import new_stack
from tests.unit.test_cli_app import _main_in_process


def _props(name="media", regions=("us-east-1", "eu-west-1"), account="111111111111"):
    stack = new_stack(account=account)
    mrap = MultiRegionAccessPoint(stack, "M", name=name, buckets={r: f"media-{account}-{r}" for r in regions})
    return mrap.create_only_properties()


def _deployed(path: Path, create_only: dict, key: str = "111111111111/media", config: dict | None = None) -> None:
    """The lock as ``record`` writes it after a deploy of ``create_only`` succeeded."""
    write_entry(path, LockEntry(key, create_only, config, {}, ()))


def test_create_only_properties_are_account_neutral():
    assert _props(account="111111111111") == _props(account="222222222222")
    assert _props()["Regions"]["eu-west-1"] == {"Bucket": "media-{account}-eu-west-1"}


def test_a_synth_never_writes_the_lock(tmp_path):
    path = tmp_path / "mrap.lock.json"
    assert enforce_lock(path, _props(), allow_replacement=False).action == "new"
    assert not path.exists(), "a synth is not a deploy: only `record` writes the lock"
    _deployed(path, _props())
    written = path.read_text()
    assert enforce_lock(path, _props(), allow_replacement=False).action == "unchanged"
    assert path.read_text() == written


def test_a_region_change_under_the_same_name_is_refused_even_with_allow_replacement(tmp_path):
    # CloudFormation cannot create the replacement while the old MRAP holds the name ("a custom-named resource
    # cannot be replaced"): https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
    path = tmp_path / "mrap.lock.json"
    _deployed(path, _props())
    for allow in (False, True):
        with pytest.raises(ReplacementError) as err:
            enforce_lock(path, _props(regions=("us-east-1", "eu-west-1", "ap-south-1")), allow_replacement=allow)
        text = "\n".join(err.value.problems)
        assert "Regions: added ['ap-south-1']" in text
        assert "cannot replace it under the same name" in text and "access_point_name" in text


def test_a_new_name_is_the_blue_green_path_and_needs_allow_replacement(tmp_path):
    path = tmp_path / "mrap.lock.json"
    _deployed(path, _props(regions=("us-east-1", "eu-west-1", "ap-south-1")))
    blue_green = _props(name="media-v2", regions=("us-east-1", "sa-east-1"))
    with pytest.raises(ReplacementError, match="new alias and ARN"):
        enforce_lock(path, blue_green, allow_replacement=False)
    result = enforce_lock(path, blue_green, allow_replacement=True)
    assert result.action == "replaced"
    assert result.removed_regions == ("ap-south-1", "eu-west-1")
    assert result.previous_regions == ("ap-south-1", "eu-west-1", "us-east-1")


def test_bucket_and_public_access_changes_are_detected():
    before = _props()
    after = json.loads(json.dumps(before))
    after["Regions"]["eu-west-1"]["Bucket"] = "other-bucket"
    after["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False
    changes = replacement_changes(before, after)
    assert changes[0] == "Regions: bucket changed in ['eu-west-1']"
    assert changes[1].startswith("PublicAccessBlockConfiguration:")


def test_lock_path_follows_the_config_file():
    assert lock_path_for(None) == Path("mrap.lock.json")
    assert lock_path_for("configs/prod.json") == Path("configs/prod.lock.json")
    assert lock_path_for("configs/prod.json", "locks/x.json") == Path("locks/x.json")


def test_entries_are_keyed_by_account_and_set_not_by_the_file(tmp_path):
    path = tmp_path / "mrap.lock.json"
    _deployed(path, _props(), key=lock_key("media", "111111111111"))
    _deployed(path, _props(regions=("us-east-1",)), key=lock_key("media", "222222222222"))
    entries = read_lock(path)
    assert sorted(entries) == ["111111111111/media", "222222222222/media"]
    assert find_entry(entries, "media", "222222222222").create_only["Regions"].keys() == {"us-east-1"}
    assert find_entry(entries, "media", "333333333333") is None, "another account's deploy is not this one's"
    assert find_entry(entries, "other", "111111111111") is None
    assert find_entry(entries, "media", None) is None, "two accounts: an unknown account matches neither"


def _pending(tmp_path: Path, expect: dict) -> Path:
    out = tmp_path / "cdk.out"
    out.mkdir(exist_ok=True)
    lock = tmp_path / "prod.lock.json"
    write_pending(out, [pending_entry("111111111111/media", _props(), {"name": "media"}, {"policy_owner": "x"},
                                      expect, lock)])
    return out


def _outputs(tmp_path: Path, outputs: dict) -> Path:
    path = tmp_path / "cdk-outputs.json"
    path.write_text(json.dumps(outputs))
    later = time.time() + 5
    os.utime(path, (later, later))  # written by the deploy, after its synth
    return path


def test_record_writes_the_entry_only_when_every_stack_deployed(tmp_path):
    expect = {"media-access-point": {"MrapName": "media"}, "media-bucket-us-east-1": {"BucketName": None}}
    out = _pending(tmp_path, expect)
    partial = _outputs(tmp_path, {"media-bucket-us-east-1": {"BucketName": "b"}})
    with pytest.raises(ValueError, match="stack media-access-point is not in .*it failed"):
        record(out, partial)
    assert not (tmp_path / "prod.lock.json").exists(), "a partial deploy records nothing"
    bucket = {"media-bucket-us-east-1": {"BucketName": "b"}}
    other = _outputs(tmp_path, {"media-access-point": {"MrapName": "other"}, **bucket})
    with pytest.raises(ValueError, match="output MrapName is 'other', this synth expects 'media'"):
        record(out, other)
    done = _outputs(tmp_path, {"media-access-point": {"MrapName": "media"}, **bucket})
    assert record(out, done) == [f"recorded 111111111111/media in {tmp_path / 'prod.lock.json'}"]
    entry = read_lock(tmp_path / "prod.lock.json")["111111111111/media"]
    assert (entry.create_only, entry.config, entry.state) == (_props(), {"name": "media"}, {"policy_owner": "x"})
    assert entry.stacks == ("media-access-point", "media-bucket-us-east-1")


def test_record_refuses_a_synth_newer_than_the_deploy(tmp_path):
    outputs = tmp_path / "cdk-outputs.json"
    outputs.write_text(json.dumps({"media-access-point": {"MrapName": "media"}}))
    earlier = time.time() - 60
    os.utime(outputs, (earlier, earlier))
    out = _pending(tmp_path, {"media-access-point": {"MrapName": "media"}})
    assert (out / PENDING_FILE).exists()
    with pytest.raises(ValueError, match="synthesized again after the deploy"):
        record(out, outputs)


def test_app_refuses_a_region_change_end_to_end(tmp_path):
    config = tmp_path / "prod.json"
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"], "account": "111111111111"}))
    _deployed(tmp_path / "prod.lock.json", _props(regions=("us-east-1", "eu-west-1")))
    result = _main_in_process({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 1
    assert "error: mrap: this change replaces the Multi-Region Access Point 'media'" in result.stderr
    assert "Regions: removed ['eu-west-1']" in result.stderr and "Traceback" not in result.stderr


def _read(previous, removed=(), version=LOCK_VERSION) -> LockResult:
    """A lock as ``enforce_lock`` read it: the Regions it recorded, what a replacement dropped, its version."""
    return LockResult("replaced" if removed else "unchanged", Path("mrap.lock.json"), tuple(removed), version,
                      tuple(previous))


def test_orphaned_stacks_are_deleted_replication_first_with_the_app_stack_names():
    config = parse_config({"name": "7media", "regions": ["us-east-1", "sa-east-1"]})
    lock = _read(["us-east-1", "eu-west-1"], removed=["eu-west-1"])
    assert orphaned_stack_commands(config, lock) == [
        "aws cloudformation delete-stack --region eu-west-1 --stack-name mrap-7media-replication-eu-west-1",
        "aws cloudformation delete-stack --region eu-west-1 --stack-name mrap-7media-bucket-eu-west-1",
    ]
    assert orphaned_stack_commands(config, _read(["us-east-1", "sa-east-1"])) == []


def test_down_to_one_region_the_kept_regions_replication_stack_is_orphaned_too():
    # One Region has no replication stack: the kept bucket's stack, still replicating to the dropped Regions,
    # must go first (deleting it removes that replication configuration).
    config = parse_config({"name": "media", "regions": ["us-east-1"]})
    assert orphaned_stack_commands(config, _read(["us-east-1", "eu-west-1"], removed=["eu-west-1"])) == [
        "aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1",
        "aws cloudformation delete-stack --region eu-west-1 --stack-name media-replication-eu-west-1",
        "aws cloudformation delete-stack --region eu-west-1 --stack-name media-bucket-eu-west-1",
    ]
    # Moving a one-Region MRAP to another Region: the new Region never had a replication stack.
    assert orphaned_stack_commands(config, _read(["eu-west-1"], removed=["eu-west-1"])) == [
        "aws cloudformation delete-stack --region eu-west-1 --stack-name media-replication-eu-west-1",
        "aws cloudformation delete-stack --region eu-west-1 --stack-name media-bucket-eu-west-1",
    ]


def test_app_names_the_stacks_a_removed_region_leaves_behind(tmp_path):
    config = tmp_path / "prod.json"
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"], "access_point_name": "media-v2",
                                  "allow_replacement": True, "account": "111111111111"}))
    _deployed(tmp_path / "prod.lock.json", _props(regions=("us-east-1", "eu-west-1")))
    result = _main_in_process({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    start = next(i for i, line in enumerate(notes) if "eu-west-1 left the MRAP" in line)
    assert "once the old MRAP is deleted" in notes[start]
    assert notes[start + 1:start + 4] == [
        "note:   aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1",
        "note:   aws cloudformation delete-stack --region eu-west-1 --stack-name media-replication-eu-west-1",
        "note:   aws cloudformation delete-stack --region eu-west-1 --stack-name media-bucket-eu-west-1",
    ]
    assert ("note:   aws s3control delete-multi-region-access-point --region us-west-2 --account-id 111111111111 "
            "--details Name=media") in notes


def test_a_lock_from_an_earlier_release_is_read_as_the_entry_of_its_mrap(tmp_path):
    path = tmp_path / "mrap.lock.json"
    path.write_text(json.dumps({"version": 1, "create_only": _props()}))
    result = enforce_lock(path, _props(), allow_replacement=False)
    assert (result.action, result.read_version, result.previous_regions) == ("unchanged", 1, ("eu-west-1", "us-east-1"))
    entry = find_entry(read_lock(path), "media", "999999999999")
    assert entry is not None and entry.config is None, "no account in it: it is the MRAP's entry in any account"
    _deployed(path, _props())  # `record` replaces it with a keyed entry
    assert list(json.loads(path.read_text())["sets"]) == ["111111111111/media"]


def test_one_region_deployed_by_an_earlier_release_left_a_replication_stack_behind():
    # Releases writing lock version 1 gave a one-Region MRAP a replication stack; this one gives it none.
    solo = parse_config({"name": "media", "regions": ["us-east-1"]})
    assert orphaned_stack_commands(solo, _read(["us-east-1"], version=1)) == [
        "aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1"]
    assert orphaned_stack_commands(solo, _read(["us-east-1"])) == []
    first = LockResult("new", Path("mrap.lock.json"))  # no lock: nothing was deployed
    assert orphaned_stack_commands(solo, first) == []
    pair = parse_config({"name": "media", "regions": ["us-east-1", "eu-west-1"]})
    assert orphaned_stack_commands(pair, _read(["us-east-1", "eu-west-1"], version=1)) == []  # they keep theirs


def test_app_names_the_replication_stack_an_earlier_release_left_for_one_region(tmp_path):
    config = tmp_path / "solo.json"
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"]}))
    (tmp_path / "solo.lock.json").write_text(json.dumps({"version": 1, "create_only": _props(
        name="media", regions=("us-east-1",))}))
    result = _main_in_process({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"note: {tmp_path / 'solo.lock.json'} was written by an earlier release (the create-only properties as last "
        "synthesized): after this deploy succeeds, run `python -m mrap_constructs.lock record` so it records what is "
        "deployed",
        "note: a one-Region MRAP replicates nowhere and no longer gets a replication stack. The stacks that left the "
        "app stay deployed (the CDK CLI never deletes them); once this deploy is done, delete them in their accounts:",
        "note:   aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1",
    ]


@pytest.mark.parametrize("version", [LOCK_VERSION + 1, "2"])
def test_a_lock_from_a_newer_release_is_refused_not_downgraded(tmp_path, version):
    path = tmp_path / "mrap.lock.json"
    written = json.dumps({"version": version, "create_only": _props()})
    path.write_text(written)
    with pytest.raises(ValueError, match=rf"lock version {version!r} is not one this release reads .*upgrade mrap"):
        enforce_lock(path, _props(), allow_replacement=False)
    assert path.read_text() == written
