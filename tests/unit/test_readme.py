"""The README's promises: the code examples of README.md and docs/ run, and CI runs the README's test command."""

from __future__ import annotations

import re

import aws_cdk as cdk

from tests.conftest import FEATURE_FLAGS, ROOT

README = (ROOT / "README.md").read_text()
#: Where executed examples may live: the README and the reference in docs/.
DOCS = "\n".join([README, *((path.read_text()) for path in sorted((ROOT / "docs").glob("*.md")))])


def _example(name: str) -> str:
    blocks = re.findall(r"```python\n(# example: " + re.escape(name) + r".*?)```", DOCS, flags=re.S)
    assert len(blocks) == 1, f"README.md and docs/ must hold exactly one '# example: {name}' block"
    return blocks[0]


def _run_example(name: str, monkeypatch, tmp_path, **context) -> cdk.App:
    """Execute a README example with the project's feature flags (plus ``context``); return the App it made."""
    real_app = cdk.App
    apps: list[cdk.App] = []

    def app_with_flags(*args, **kwargs):
        apps.append(real_app(*args, context={**FEATURE_FLAGS, **context}, outdir=str(tmp_path), **kwargs))
        return apps[-1]

    monkeypatch.setattr(cdk, "App", app_with_flags)
    exec(compile(_example(name), "README.md", "exec"), {})
    return apps[0]


def test_own_app_example_synthesizes(monkeypatch, tmp_path):
    assembly = _run_example("own-app", monkeypatch, tmp_path).synth()
    names = sorted(s.stack_name for s in assembly.stacks)
    assert names == ["media-access-point", "media-bucket-eu-west-1", "media-bucket-us-east-1",
                     "media-replication-eu-west-1", "media-replication-us-east-1"]
    template = assembly.get_stack_by_name("media-access-point").template
    assert any(r["Type"] == "AWS::S3::MultiRegionAccessPoint" for r in template["Resources"].values())


def test_existing_vpc_example_synthesizes(monkeypatch, tmp_path):
    # What `cdk.context.json` holds after the CLI looked the AZs up.
    zones = {"availability-zones:account=111122223333:region=eu-west-1": ["eu-west-1a", "eu-west-1b"]}
    template = _run_example("existing-vpc", monkeypatch, tmp_path, **zones).synth().get_stack_by_name(
        "network").template
    endpoint = next(r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint")
    assert endpoint["Properties"]["ServiceName"] == "com.amazonaws.s3-global.accesspoint"


def test_mrap_set_example_synthesizes_every_wave(monkeypatch, tmp_path):
    assembly = _run_example("mrap-set", monkeypatch, tmp_path).synth()
    assert sorted(s.stack_name for s in assembly.stacks) == [
        "media-access-point", "media-bucket-eu-west-1", "media-bucket-us-east-1",
        "media-replication-eu-west-1", "media-replication-us-east-1"]


def test_assert_rules_example_matches_the_structured_rules(monkeypatch, tmp_path):
    _run_example("assert-rules", monkeypatch, tmp_path)  # its assertions raise when the rules are not structured


def test_cloudfront_example_synthesizes(monkeypatch, tmp_path):
    template = _run_example("cloudfront", monkeypatch, tmp_path).synth().get_stack_by_name("media-cdn").template
    types = sorted(r["Type"] for r in template["Resources"].values())
    assert "AWS::CloudFront::Distribution" in types and "AWS::CloudFront::OriginAccessControl" in types
    [policy] = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::MultiRegionAccessPointPolicy"]
    assert policy["Properties"]["Policy"]["Statement"][0]["Sid"] == "AllowCloudFrontOacRead"


def test_ci_runs_the_readme_test_command():
    assert "make test           # " in README
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_documentation_links_resolve():
    """Every relative link of README.md and docs/ points at a file of the repository."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text()):
            assert (path.parent / target).exists(), f"{path.name}: {target}"
