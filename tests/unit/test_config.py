"""The app config contract: defaults, and every bad input rejected with field, value and rule."""

from __future__ import annotations

import json

import pytest

from stacks.config import ConfigError, load_config, parse_config
from tests.conftest import DEFAULT_CONFIG, ROOT

BASE = {"name": "media", "regions": ["us-east-1", "eu-west-1"]}


def test_defaults():
    config = parse_config(BASE)
    assert config.home_region == "us-west-2"
    assert config.removal_policy == "retain"
    assert config.effective_bucket_prefix == "media"
    assert config.replication.mode == "full-mesh" and config.replication.delete_markers
    assert config.replication.metrics and not config.replication.rtc
    assert config.encryption == "sse-s3" and config.replication_kms is False


def test_tags_with_delete_markers_off_is_valid():
    config = parse_config({**BASE, "replication": {"tags": {"replicate": "yes"}, "delete_markers": False,
                                                   "acknowledge_filtered_404s": True}})
    assert config.replication.tags == {"replicate": "yes"} and not config.replication.delete_markers


def test_fails_filtered_replication_with_two_active_regions_naming_both_keys_and_the_fix():
    """MRAP routing does not check that the object is in the chosen Region's bucket (S3 User Guide, "Multi-Region
    Access Point request routing"): objects outside the filter 404 on every other active Region."""
    with pytest.raises(ConfigError) as raised:
        parse_config({**BASE, "replication": {"prefix": "media/"}})
    message = str(raised.value)
    assert "replication.prefix='media/'" in message and "failover.active" in message
    assert "replication.acknowledge_filtered_404s: true" in message and "404" in message


def test_filtered_replication_with_one_active_region_or_acknowledged_is_valid():
    regions = BASE["regions"]
    one_active = parse_config({**BASE, "replication": {"prefix": "media/"}, "failover": {"active": regions[:1]}})
    assert one_active.replication.prefix == "media/"
    acknowledged = parse_config({**BASE, "replication": {"prefix": "media/", "acknowledge_filtered_404s": True}})
    assert acknowledged.replication.acknowledge_filtered_404s is True


def test_cdk_json_default_is_valid():
    assert parse_config(DEFAULT_CONFIG).name == "mrap-demo"


def test_config_file_replaces_context(tmp_path):
    file = tmp_path / "c.json"
    file.write_text(json.dumps({**BASE, "name": "from-file"}))
    assert load_config({"mrap": BASE, "config": str(file)}).name == "from-file"


def test_missing_config_file_and_bad_json(tmp_path):
    with pytest.raises(ConfigError, match=r"-c config=/nope.json: no such file"):
        load_config({"config": "/nope.json"})
    bad = tmp_path / "bad.json"
    bad.write_text("{name:")
    with pytest.raises(ConfigError, match=r"bad.json: not valid JSON"):
        load_config({"config": str(bad)})


# One row per bad input: (config, the line expected among the problems).
BAD_INPUTS = [
    (None, r"mrap: the config is empty"),
    ({}, r"mrap: the config is empty"),
    ([], r"mrap: must be an object, got list"),
    ({"regions": ["us-east-1"]}, r"mrap.name: required key is missing"),
    ({"name": "media"}, r"mrap.regions: required key is missing"),
    ({**BASE, "name": "Media"}, r"mrap.name='Media': must be 3-50 characters"),
    ({**BASE, "name": "-media"}, r"mrap.name='-media': .*start and end with a letter or digit"),
    ({**BASE, "name": "media-"}, r"mrap.name='media-'"),
    ({**BASE, "name": "me"}, r"mrap.name='me'"),
    ({**BASE, "name": "m" * 51}, r"mrap.name='m{51}'"),
    ({**BASE, "name": "my_media"}, r"mrap.name='my_media'"),
    ({**BASE, "name": 42}, r"mrap.name=42: Input should be a valid string"),
    ({**BASE, "regions": []}, r"mrap.regions=\[\]: give at least one Region"),
    ({**BASE, "regions": "us-east-1"}, r"mrap.regions='us-east-1': Input should be a valid list"),
    ({**BASE, "regions": ["us-east-1", "us-east-1"]}, r"\['us-east-1'\] listed more than once"),
    ({**BASE, "regions": ["us-esat-1"]}, r"'us-esat-1' does not support MRAPs \(did you mean 'us-east-1'\?\)"),
    ({**BASE, "regions": ["cn-north-1"]}, r"'cn-north-1' does not support MRAPs"),
    ({**BASE, "regions": sorted(__import__("mrap_constructs").SUPPORTED_REGIONS)[:18]},
     r"18 Regions; an MRAP holds at most 17"),
    ({**BASE, "account": "1234"}, r"mrap.account='1234': must be a 12-digit AWS account id"),
    ({**BASE, "account": 111111111111}, r"mrap.account=111111111111: Input should be a valid string"),
    ({**BASE, "home_region": "mars-1"}, r"mrap.home_region='mars-1': 'mars-1' is not a Region that supports MRAPs"),
    ({**BASE, "bucket_prefix": "My_Bucket"}, r"bucket_prefix='My_Bucket': must be lowercase letters"),
    ({**BASE, "bucket_prefix": "xn--media"}, r"must not start with 'xn--'"),
    ({**BASE, "bucket_prefix": "a" * 45}, r"derives the 68-character bucket name .* use at most 40 characters"),
    ({**BASE, "removal_policy": "delete"}, r"mrap.removal_policy='delete': Input should be 'retain' or 'destroy'"),
    ({**BASE, "encryption": "aes"}, r"mrap.encryption='aes'"),
    ({**BASE, "regoins": ["us-east-1"]}, r"mrap.regoins: unknown key \(did you mean 'regions'\?\)"),
    ({**BASE, "replication": {"mdoe": "none"}}, r"mrap.replication.mdoe: unknown key \(did you mean 'mode'\?\)"),
    ({**BASE, "replication": {"mode": "mesh"}}, r"mrap.replication.mode='mesh': Input should be 'full-mesh'"),
    ({**BASE, "replication": {"mode": "one-way", "source_region": "ap-south-1"}},
     r"mrap.replication.source_region='ap-south-1': must be one of the MRAP's Regions"),
    ({**BASE, "replication": {"source_region": "us-east-1"}},
     r"mrap.replication.source_region='us-east-1': only applies to mode 'one-way'"),
    ({**BASE, "replication": {"rtc": True, "metrics": False}},
     r"mrap.replication.rtc=True: Replication Time Control needs metrics=True"),
    ({**BASE, "replication": {"rtc": "yes"}}, r"mrap.replication.rtc='yes': Input should be a valid boolean"),
    ({**BASE, "replication": {"kms": True}}, r"mrap.replication.kms=True: needs encryption KMS \(sse-kms\)"),
    ({**BASE, "replication": {"storage_class": "COLD"}}, r"mrap.replication.storage_class='COLD': use one of"),
    ({**BASE, "replication": "full-mesh"}, r"mrap.replication='full-mesh': Input should be a valid dictionary"),
    ({**BASE, "monitoring": {"access_logs": "no"}},
     r"mrap.monitoring.access_logs='no': Input should be a valid boolean"),
    ({**BASE, "monitoring": {"alarm_email": "ops"}}, r"mrap.monitoring.alarm_email='ops': give an e-mail address"),
    ({**BASE, "monitoring": {"thresholds": {"latency_seconds": 0}}},
     r"mrap.monitoring.thresholds.latency_seconds=0: Input should be greater than 0"),
    ({**BASE, "monitoring": {"dashbaord": True}},
     r"mrap.monitoring.dashbaord: unknown key \(did you mean 'dashboard'\?\)"),
    ({**BASE, "replication": {"metrics": False}}, r"mrap.monitoring.alarms='on': needs replication.metrics"),
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html: tag filters exclude
    # delete-marker replication; the default delete_markers=true with tags is the combination S3 rejects.
    ({**BASE, "replication": {"tags": {"replicate": "yes"}}},
     r"mrap.replication.delete_markers=True: a rule that filters on tags cannot replicate delete markers"
     r".*set delete_markers=False"),
]


@pytest.mark.parametrize(("raw", "expected"), BAD_INPUTS, ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_fails_on_bad_input(raw, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(raw)
    assert any(__import__("re").search(expected, line) for line in err.value.problems), err.value.problems


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as err:
        parse_config({"name": "Bad", "regions": ["us-east-1"], "account": "x", "colour": "red"})
    assert len(err.value.problems) == 3


def test_token_check_answers_plain_strings_without_the_cdk():
    from aws_cdk import Aws

    from mrap_constructs._validation import is_unresolved

    assert not is_unresolved("mrap-demo") and not is_unresolved("${Token") and not is_unresolved(17)
    assert is_unresolved(Aws.ACCOUNT_ID) and is_unresolved(f"prefix-{Aws.REGION}-suffix")


def _local_imports(module: str) -> set[str]:
    """Modules of this repository that ``module`` imports at load time (module level), and what else it imports."""
    import ast

    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:  # module level only: imports inside functions are lazy
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_cdk_app_does_not_import_boto3():
    # boto3 is for operating a deployed MRAP (mrap_constructs.ops); every synth would pay for importing it.
    seen, todo, third_party = set(), ["app"], set()
    while todo:
        module = todo.pop()
        seen.add(module)
        for name in _local_imports(module):
            package = name.partition(".")[0]
            if package in ("mrap_constructs", "mrap_runtime", "stacks", "app"):
                exists = (ROOT / (name.replace(".", "/") + ".py")).exists() or (ROOT / name.replace(".", "/")).is_dir()
                if exists and name not in seen:
                    todo.append(name)
            else:
                third_party.add(name.split(".")[0])
    assert "mrap_constructs.routes" in seen and "stacks.config" in seen  # the walk follows the app's imports
    assert not {m for m in seen if m.startswith(("mrap_constructs.ops", "mrap_runtime.client", "mrap_runtime.cli"))}
    assert not third_party & {"boto3", "botocore"}
