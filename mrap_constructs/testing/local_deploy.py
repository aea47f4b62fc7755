"""Deploy a CDK app to the local emulator with the real CDK CLI: bootstrap, deploy, inspect, destroy.

Used by ``make deploy-local`` (``scripts/deploy_local.py``) and ``tests/e2e``; reusable in your own CI.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mrap_constructs.testing.emulator import LocalAws


@dataclass
class DeployedMrap:
    """What the emulator holds after a deploy, read back with boto3."""

    name: str
    alias: str
    arn: str
    hostname: str
    buckets: dict[str, str]
    versioning: dict[str, str] = field(default_factory=dict)
    replication: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    policy: dict[str, Any] | None = None
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"MRAP      {self.name}", f"Alias     {self.alias}", f"Hostname  {self.hostname}",
                 f"ARN       {self.arn}",
                 "", f"{'REGION':<16}{'BUCKET':<46}{'VERSIONING':<11}REPLICATION RULES"]
        for region, bucket in sorted(self.buckets.items()):
            rules = self.replication.get(region, [])
            targets = ", ".join(r["ID"].removeprefix("to-") for r in rules) or "none"
            lines.append(f"{region:<16}{bucket:<46}{self.versioning.get(region, '?'):<11}{len(rules)} -> {targets}")
        return "\n".join(lines)


class LocalDeployment:
    """Run the CDK CLI of ``project`` against ``aws`` (a started ``LocalAws``).

    Args:
        aws: the emulator.
        project: the CDK project root (holds ``cdk.json``). Default: the current directory.
        config: a config file (``-c config=...``). Default: the ``mrap`` context of ``cdk.json``.
        out: where CLI progress is echoed. Default: stdout.
        cdk: the CDK CLI command. Default: ``node_modules/.bin/cdk`` of the project.
        regions: the Regions to bootstrap. Default: every stack's Region, read from a ``cdk synth``.
    """

    def __init__(self, aws: LocalAws, *, project: Path | str = ".", config: str | None = None,
                 out: TextIO | None = None, cdk: list[str] | None = None,
                 regions: list[str] | None = None) -> None:
        self._regions = regions
        self.aws = aws
        self.project = Path(project).resolve()
        self.config = config
        self.out = out or sys.stdout
        self.cdk = cdk or [str(self.project / "node_modules" / ".bin" / "cdk")]
        self.env = aws.env
        venv_bin = Path(sys.executable).parent
        self.env["PATH"] = f"{venv_bin}:{self.env.get('PATH', '')}"

    def _run(self, *args: str, echo: bool = True) -> str:
        context = ["-c", f"config={self.config}"] if self.config else []
        command = [*self.cdk, *args, *context, "--no-notices"]
        process = subprocess.Popen(command, cwd=self.project, env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if echo and _worth_echoing(line):
                self.out.write(line)
                self.out.flush()
        if process.wait() != 0:
            tail = "".join(lines[-40:])
            raise RuntimeError(f"`cdk {' '.join(args)}` failed (exit {process.returncode}):\n{tail}")
        return "".join(lines)

    def environments(self) -> list[str]:
        """``aws://ACCOUNT/REGION`` of every stack, from ``cdk synth`` (what must be bootstrapped)."""
        if self._regions:
            return [f"aws://{self.aws.account}/{region}" for region in sorted(set(self._regions))]
        out_dir = self.project / "cdk.out.local"
        self._run("synth", "--quiet", "-o", str(out_dir), echo=False)
        manifest = json.loads((out_dir / "manifest.json").read_text())
        environments = set()
        for artifact in manifest["artifacts"].values():
            if artifact["type"] == "aws:cloudformation:stack":
                region = artifact["environment"].rsplit("/", 1)[-1]
                environments.add(f"aws://{self.aws.account}/{region}")
        return sorted(environments)

    def bootstrap(self) -> None:
        self._run("bootstrap", *self.environments())

    def deploy(self) -> None:
        # --method=direct: moto's change-set path returns no stack outputs.
        self._run("deploy", "--all", "--method=direct", "--require-approval", "never", "--concurrency", "4")

    def destroy(self) -> None:
        self._run("destroy", "--all", "--force")

    def outputs(self) -> dict[str, dict[str, str]]:
        """Stack outputs by stack name, read from CloudFormation in every Region bootstrapped."""
        result: dict[str, dict[str, str]] = {}
        for env in self.environments():
            cloudformation = self.aws.client("cloudformation", env.rsplit("/", 1)[-1])
            for stack in cloudformation.describe_stacks()["Stacks"]:
                if stack["StackName"] != "CDKToolkit":
                    result[stack["StackName"]] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return result

    def inspect(self, name: str) -> DeployedMrap:
        """Read the MRAP called ``name``, its buckets' versioning and replication, and its policy."""
        control = self.aws.client("s3control", "us-west-2")
        point = control.get_multi_region_access_point(AccountId=self.aws.account, Name=name)["AccessPoint"]
        buckets = {r["Region"]: r["Bucket"] for r in point["Regions"]}
        deployed = DeployedMrap(
            name=name, alias=point["Alias"], arn=f"arn:aws:s3::{self.aws.account}:accesspoint/{point['Alias']}",
            hostname=f"{point['Alias']}.accesspoint.s3-global.amazonaws.com", buckets=buckets,
            outputs=self.outputs(),
        )
        for region, bucket in buckets.items():
            s3 = self.aws.client("s3", region)
            deployed.versioning[region] = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
            try:
                deployed.replication[region] = s3.get_bucket_replication(Bucket=bucket)[
                    "ReplicationConfiguration"]["Rules"]
            except s3.exceptions.ClientError:
                deployed.replication[region] = []
        try:
            deployed.policy = json.loads(control.get_multi_region_access_point_policy(
                AccountId=self.aws.account, Name=name)["Policy"]["Established"]["Policy"])
        except control.exceptions.ClientError:
            deployed.policy = None
        return deployed


def _worth_echoing(line: str) -> bool:
    """Progress lines: which stack, which wave, done or failed — not every asset upload."""
    return any(marker in line for marker in ("deploying...", "destroying...", "✅", "❌", "Error", "failed",
                                             "bootstrapped", "Total time"))
