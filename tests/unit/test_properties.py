"""Property-based tests (hypothesis): random valid configs synthesize cleanly; random invalid ones are rejected
with a message naming the field — never a traceback from inside jsii."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mrap_constructs import MRAP_REGIONS
from mrap_constructs.naming import MRAP_NAME_PATTERN
from stacks.config import ConfigError, MrapConfig, parse_config
from tests.conftest import ACCOUNT
from tests.unit.test_cfn_lint import _lint_app

NAMES = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,18}[a-z0-9]\Z")


@st.composite
def valid_configs(draw):
    regions = draw(st.lists(st.sampled_from(sorted(MRAP_REGIONS)), min_size=1, max_size=4, unique=True))
    mode = draw(st.sampled_from(["full-mesh", "one-way", "none"]))
    replication = {"mode": mode, "rtc": draw(st.booleans()), "delete_markers": draw(st.booleans())}
    if mode == "one-way":
        replication["source_region"] = draw(st.sampled_from(regions))
    return {
        "name": draw(NAMES),
        "regions": regions,
        "account": ACCOUNT,
        "home_region": draw(st.sampled_from(sorted(MRAP_REGIONS))),
        "encryption": draw(st.sampled_from(["sse-s3", "sse-kms"])),
        "monitoring": {"access_logs": draw(st.booleans()), "dashboard": draw(st.booleans()),
                       "alarms": draw(st.booleans())},
        "replication": replication,
    }


@settings(max_examples=2, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                 HealthCheck.too_slow])
@given(config=valid_configs())
def test_valid_configs_synthesize_nag_clean_and_lint_clean(synth, config):
    app = synth(config)  # cdk-nag runs during synth: a finding raises
    n = len(config["regions"])
    # A bucket stack per Region, a replication stack per Region from two Regions on, the MRAP's stack.
    assert len(app.stack_names) == n + (n if n > 1 else 0) + 1
    assert _lint_app(app) == []


# (field path, strategy of values that break it)
MUTATIONS = [
    (("name",), st.text(max_size=60).filter(lambda s: not MRAP_NAME_PATTERN.match(s))),
    (("name",), st.integers() | st.booleans() | st.none()),
    (("regions",), st.lists(st.text(min_size=1, max_size=12).filter(lambda s: s not in MRAP_REGIONS),
                            min_size=1, max_size=3)),
    (("regions",), st.text(max_size=10) | st.integers()),
    (("account",), st.text(max_size=14).filter(lambda s: not re.fullmatch(r"\d{12}", s))),
    (("home_region",), st.text(max_size=14).filter(lambda s: s not in MRAP_REGIONS and len(s) > 0)),
    (("removal_policy",), st.text(max_size=10).filter(lambda s: s not in ("retain", "destroy"))),
    (("encryption",), st.text(max_size=10).filter(lambda s: s not in ("sse-s3", "sse-kms"))),
    (("monitoring", "access_logs"), st.text(max_size=5) | st.integers()),
    (("monitoring", "thresholds", "evaluation_periods"), st.integers(max_value=0) | st.text(max_size=3)),
    (("replication", "mode"), st.text(max_size=10).filter(lambda s: s not in ("full-mesh", "one-way", "none"))),
    (("replication", "rtc"), st.text(max_size=5) | st.integers()),
    (("replication", "storage_class"), st.text(min_size=1, max_size=12).filter(lambda s: not s.isupper())),
    (("bucket_prefix",), st.from_regex(r"\A[A-Z_.]{1,5}\Z") | st.just("a" * 50)),
]
KNOWN = set(MrapConfig.model_fields)


@st.composite
def invalid_configs(draw):
    config = draw(valid_configs())
    if draw(st.booleans()) and draw(st.booleans()):
        key = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
            lambda k: k not in KNOWN))
        config[key] = 1
        return config, key
    path, values = draw(st.sampled_from(MUTATIONS))
    target = config
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = draw(values)
    return config, ".".join(path)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(case=invalid_configs())
def test_invalid_configs_fail_naming_the_field(case):
    config, field = case
    try:
        parse_config(config)
    except ConfigError as err:
        assert any(f"mrap.{field}" in line or f"{field}=" in line for line in err.problems), (field, err.problems)
    else:
        raise AssertionError(f"accepted an invalid {field}: {config}")
