"""MultiRegionAccessPointRoutes: the custom resource, its least-privilege handler, validation; app wiring."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from mrap_constructs import MultiRegionAccessPoint, MultiRegionAccessPointRoutes
from stacks.config import ConfigError, parse_config
from tests.conftest import ACCOUNT, new_stack

BUCKETS = {"us-east-1": "media-us-east-1", "eu-west-1": "media-eu-west-1", "ap-south-1": "media-ap-south-1"}


@pytest.fixture(scope="module")
def routes_stack():
    stack = new_stack("us-west-2")
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    routes = MultiRegionAccessPointRoutes(stack, "Routes", access_point=mrap, active=["us-east-1"])
    return stack, mrap, routes, Template.from_stack(stack)


def test_custom_resource_carries_dials_and_names_the_mrap_by_reference(routes_stack):
    stack, mrap, routes, template = routes_stack
    template.has_resource_properties("Custom::MrapRoutes", {
        "AccountId": ACCOUNT,
        "MrapName": {"Ref": stack.resolve(mrap.resource.logical_id)},
        "Dials": {"ap-south-1": "0", "eu-west-1": "0", "us-east-1": "100"},
        "RoutesRegion": "us-east-1",
        "TimeoutSeconds": "600",
    })
    assert routes.dials == {"ap-south-1": 0, "eu-west-1": 0, "us-east-1": 100}


def test_handler_is_pinned_python_with_packaged_code(routes_stack):
    _, _, _, template = routes_stack
    template.has_resource_properties("AWS::Lambda::Function", {
        "Runtime": "python3.14", "Handler": "mrap_runtime.handlers.routes.on_event", "Timeout": 720})


def test_handler_asset_is_the_runtime_package_as_laid_out_and_runs_from_it(routes_stack, tmp_path):
    """The asset is the ``mrap_runtime`` package, every module as laid out (no list of files), and nothing beside it:
    a directory asset of a checkout or site-packages would carry dotfiles (``.env``) and other packages."""
    import subprocess
    import sys
    from pathlib import Path

    from mrap_constructs.routes import RUNTIME_PACKAGE

    stack, *_ = routes_stack
    assembly = stack.node.root.synth()
    asset_dirs = [p for p in Path(assembly.directory).glob("asset.*") if (p / "mrap_runtime").is_dir()]
    assert len(asset_dirs) == 1
    files = sorted(str(p.relative_to(asset_dirs[0])) for p in asset_dirs[0].rglob("*") if p.is_file())
    expected = sorted(f"mrap_runtime/{p.relative_to(RUNTIME_PACKAGE)}" for p in RUNTIME_PACKAGE.rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith("."))
    assert files == expected and "mrap_runtime/handlers/routes.py" in files
    # The handler imports from the asset alone, with no aws-cdk-lib (Lambda has boto3 only).
    probe = ("import sys; sys.path.insert(0, '.'); import mrap_runtime.handlers.routes as h; "
             "mods = [m.__file__ for n, m in sys.modules.items() if n.startswith('mrap_')]; "
             "assert all(f.startswith(sys.path[0]) for f in mods), mods; "
             "assert not {'aws_cdk', 'jsii', 'constructs'} & set(sys.modules); print(len(mods))")
    result = subprocess.run([sys.executable, "-c", probe.replace("'.'", repr(str(asset_dirs[0])))],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 4


def test_handler_policy_is_scoped_to_the_mrap_arn(routes_stack):
    stack, mrap, _, template = routes_stack
    policy = next(p for p in template.find_resources("AWS::IAM::ManagedPolicy").values()
                  if "SubmitMultiRegionAccessPointRoutes" in json.dumps(p))
    statement = next(s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Sid"] == "RoutesOfThisMrap")
    assert statement["Resource"] == stack.resolve(mrap.arn)
    assert sorted(statement["Action"]) == ["s3:GetMultiRegionAccessPoint", "s3:GetMultiRegionAccessPointRoutes",
                                           "s3:SubmitMultiRegionAccessPointRoutes"]


def test_explicit_passive_and_routes_region():
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    MultiRegionAccessPointRoutes(stack, "Routes", access_point=mrap, active=["us-east-1", "eu-west-1"],
                                 passive=["ap-south-1"], routes_region="ap-southeast-2")
    Template.from_stack(stack).has_resource_properties("Custom::MrapRoutes", {
        "Dials": {"ap-south-1": "0", "eu-west-1": "100", "us-east-1": "100"}, "RoutesRegion": "ap-southeast-2"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"active": []}, r"active=\[\]: name at least one Region"),
        ({"active": ["sa-east-1"]}, r"active=\['sa-east-1'\]: every Region must be one of the MRAP's Regions"),
        ({"active": ["us-east-1"], "passive": ["us-east-1", "eu-west-1", "ap-south-1"]},
         r"a Region cannot be both active and passive"),
        ({"active": ["us-east-1"], "passive": ["eu-west-1"]}, r"name every Region as active or passive; missing"),
        ({"active": ["us-east-1", "us-east-1"]}, r"list each Region once"),
        ({"active": ["us-east-1"], "routes_region": "ap-south-1"}, r"routes API is served only in"),
        # https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html: 900 s at most
        ({"active": ["us-east-1"], "timeout": __import__("aws_cdk").Duration.minutes(20)},
         r"timeout='1200 s': give 60 s to 780 s: the handler runs in a Lambda function"),
    ],
)
def test_fails_on_invalid_dials(kwargs, message):
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets=BUCKETS)
    with pytest.raises(ValueError, match=message):
        MultiRegionAccessPointRoutes(stack, "Routes", access_point=mrap, **kwargs)


FAILOVER = {"name": "failover", "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "account": ACCOUNT,
            "replication": {"mode": "one-way", "source_region": "us-east-1"},
            "failover": {"active": ["us-east-1"]}}


def test_app_with_failover_puts_routes_in_the_access_point_stack(synth):
    from tests.unit.test_monitoring import MONITORED

    app = synth(MONITORED)  # one-way replication is not needed for routes; this scenario has failover on
    template = app.template("monitored-access-point")
    template.resource_count_is("Custom::MrapRoutes", 1)
    template.has_output("MrapActiveRegions", {"Value": "us-east-1"})
    assert [len(w) for w in app.deployment.waves] == [2, 3]


@pytest.mark.parametrize(
    ("failover", "message"),
    [
        ({"active": []}, r"failover.active=\[\]: name at least one Region that receives traffic"),
        ({"active": ["sa-east-1"]}, r"failover.active=\['sa-east-1'\]: every Region must be one of the MRAP's"),
        ({"active": ["us-east-1", "us-east-1"]}, r"failover.active=\[.*\]: list each Region once"),
        ({"active": ["us-east-1"], "passive": ["us-east-1"]}, r"cannot be both active and passive"),
        ({"active": ["us-east-1"], "passive": ["eu-west-1"]}, r"missing \['ap-southeast-2'\]"),
        ({"active": ["us-east-1"], "routes_region": "sa-east-1"}, r"routes API is served only in"),
        ({"active": ["us-east-1"], "dials": {}}, r"mrap.failover.dials: unknown key"),
    ],
)
def test_config_fails_on_inconsistent_failover(failover, message):
    with pytest.raises(ConfigError) as err:
        parse_config({**FAILOVER, "failover": failover})
    assert any(__import__("re").search(message, line) for line in err.value.problems), err.value.problems
