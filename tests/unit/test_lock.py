"""The immutability guard: a change that would replace the MRAP is refused unless allowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mrap_constructs import MultiRegionAccessPoint
from mrap_constructs.lock import (
    LOCK_VERSION,
    LockResult,
    ReplacementError,
    enforce_lock,
    lock_path_for,
    replacement_changes,
)
from stacks.app_builder import orphaned_stack_commands
from stacks.config import parse_config
from tests.conftest import new_stack
from tests.unit.test_cli_app import _run_app


def _props(name="media", regions=("us-east-1", "eu-west-1"), account="111111111111"):
    stack = new_stack(account=account)
    mrap = MultiRegionAccessPoint(stack, "M", name=name, buckets={r: f"media-{account}-{r}" for r in regions})
    return mrap.create_only_properties()


def test_create_only_properties_are_account_neutral():
    assert _props(account="111111111111") == _props(account="222222222222")
    assert _props()["Regions"]["eu-west-1"] == {"Bucket": "media-{account}-eu-west-1"}


def test_first_synth_writes_the_lock_then_unchanged(tmp_path):
    path = tmp_path / "mrap.lock.json"
    assert enforce_lock(path, _props(), allow_replacement=False).action == "created"
    assert json.loads(path.read_text())["create_only"]["Name"] == "media"
    assert enforce_lock(path, _props(), allow_replacement=False).action == "unchanged"


def test_fails_on_name_change_and_explains_the_new_alias(tmp_path):
    path = tmp_path / "mrap.lock.json"
    enforce_lock(path, _props(), allow_replacement=False)
    with pytest.raises(ReplacementError) as err:
        enforce_lock(path, _props(name="media-v2"), allow_replacement=False)
    text = str(err.value)
    assert "replaces the Multi-Region Access Point 'media'" in text
    assert 'Name: "media" -> "media-v2"' in text
    assert "new alias" in text and '"allow_replacement": true' in text


def test_fails_on_region_change(tmp_path):
    path = tmp_path / "mrap.lock.json"
    enforce_lock(path, _props(), allow_replacement=False)
    with pytest.raises(ReplacementError, match=r"Regions: added \['ap-south-1'\], removed \['eu-west-1'\]"):
        enforce_lock(path, _props(regions=("us-east-1", "ap-south-1")), allow_replacement=False)


def test_allow_replacement_rewrites_the_lock(tmp_path):
    path = tmp_path / "mrap.lock.json"
    enforce_lock(path, _props(), allow_replacement=False)
    assert enforce_lock(path, _props(name="media-v2"), allow_replacement=True).action == "replaced"
    assert json.loads(path.read_text())["create_only"]["Name"] == "media-v2"


def test_bucket_and_public_access_changes_are_detected():
    before = _props()
    after = json.loads(json.dumps(before))
    after["Regions"]["eu-west-1"]["Bucket"] = "other"
    after["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False
    changes = replacement_changes(before, after)
    assert changes[0] == "Regions: bucket changed in ['eu-west-1']"
    assert changes[1].startswith("PublicAccessBlockConfiguration:")


def test_lock_path_follows_the_config_file():
    assert str(lock_path_for(None)) == "mrap.lock.json"
    assert str(lock_path_for("conf/prod.json")) == "conf/prod.lock.json"
    assert str(lock_path_for("conf/prod.json", "locks/p.json")) == "locks/p.json"


def test_app_refuses_a_region_change_end_to_end(tmp_path):
    config = tmp_path / "prod.json"
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"]}))
    # The lock as the first deploy of two Regions wrote it (that path is covered in-process above).
    enforce_lock(tmp_path / "prod.lock.json", _props(regions=("us-east-1", "eu-west-1")), allow_replacement=False)
    result = _run_app({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 1
    assert "error: mrap: this change replaces the Multi-Region Access Point 'media'" in result.stderr
    assert "Regions: removed ['eu-west-1']" in result.stderr and "Traceback" not in result.stderr


def test_a_replacement_reports_the_regions_it_dropped(tmp_path):
    path = tmp_path / "mrap.lock.json"
    enforce_lock(path, _props(regions=("us-east-1", "eu-west-1", "ap-south-1")), allow_replacement=False)
    result = enforce_lock(path, _props(regions=("us-east-1", "sa-east-1")), allow_replacement=True)
    assert result.removed_regions == ("ap-south-1", "eu-west-1")
    assert result.previous_regions == ("ap-south-1", "eu-west-1", "us-east-1")
    assert enforce_lock(path, _props(name="media-v2", regions=("us-east-1", "sa-east-1")),
                        allow_replacement=True).removed_regions == ()


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
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"], "allow_replacement": True}))
    enforce_lock(tmp_path / "prod.lock.json", _props(regions=("us-east-1", "eu-west-1")), allow_replacement=False)
    result = _run_app({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    notes = result.stderr.splitlines()
    assert notes[1].startswith("note: eu-west-1 left the MRAP. The stacks that left the app stay deployed")
    assert notes[2:] == [
        "note:   aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1",
        "note:   aws cloudformation delete-stack --region eu-west-1 --stack-name media-replication-eu-west-1",
        "note:   aws cloudformation delete-stack --region eu-west-1 --stack-name media-bucket-eu-west-1",
    ]


def test_a_lock_from_an_earlier_release_is_upgraded_without_a_replacement(tmp_path):
    path = tmp_path / "mrap.lock.json"
    path.write_text(json.dumps({"version": 1, "create_only": _props()}))
    result = enforce_lock(path, _props(), allow_replacement=False)
    assert (result.action, result.read_version, result.previous_regions) == ("upgraded", 1, ("eu-west-1", "us-east-1"))
    assert json.loads(path.read_text()) == {"version": LOCK_VERSION, "create_only": _props()}
    assert enforce_lock(path, _props(), allow_replacement=False).action == "unchanged"


def test_one_region_deployed_by_an_earlier_release_left_a_replication_stack_behind():
    # Releases writing lock version 1 gave a one-Region MRAP a replication stack; this one gives it none.
    solo = parse_config({"name": "media", "regions": ["us-east-1"]})
    assert orphaned_stack_commands(solo, _read(["us-east-1"], version=1)) == [
        "aws cloudformation delete-stack --region us-east-1 --stack-name media-replication-us-east-1"]
    assert orphaned_stack_commands(solo, _read(["us-east-1"])) == []
    created = LockResult("created", Path("mrap.lock.json"))  # no lock: nothing was deployed
    assert orphaned_stack_commands(solo, created) == []
    pair = parse_config({"name": "media", "regions": ["us-east-1", "eu-west-1"]})
    assert orphaned_stack_commands(pair, _read(["us-east-1", "eu-west-1"], version=1)) == []  # they keep theirs


def test_app_names_the_replication_stack_an_earlier_release_left_for_one_region(tmp_path):
    config = tmp_path / "solo.json"
    config.write_text(json.dumps({"name": "media", "regions": ["us-east-1"]}))
    (tmp_path / "solo.lock.json").write_text(json.dumps({"version": 1, "create_only": _props(
        name="media", regions=("us-east-1",))}))
    result = _run_app({"config": str(config)}, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"note: upgraded {tmp_path / 'solo.lock.json'} (the MRAP's create-only properties); commit it",
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
