"""Deploy a CDK app to the local emulator with the real CDK CLI: bootstrap, deploy, inspect, destroy.

Used by ``make deploy-local`` (``scripts/deploy_local.py``) and ``tests/e2e``; reusable in your own CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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
    bucket_accounts: dict[str, str] = field(default_factory=dict)
    versioning: dict[str, str] = field(default_factory=dict)
    replication: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    policy: dict[str, Any] | None = None
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"MRAP      {self.name}", f"Alias     {self.alias}", f"Hostname  {self.hostname}",
                 f"ARN       {self.arn}",
                 "", f"{'REGION':<16}{'ACCOUNT':<14}{'BUCKET':<46}{'VERSIONING':<11}REPLICATION RULES"]
        for region, bucket in sorted(self.buckets.items()):
            rules = self.replication.get(region, [])
            targets = ", ".join(r["ID"].removeprefix("to-") for r in rules) or "none"
            lines.append(f"{region:<16}{self.bucket_accounts.get(region, '?'):<14}{bucket:<46}"
                         f"{self.versioning.get(region, '?'):<11}{len(rules)} -> {targets}")
        return "\n".join(lines)


#: What a trusted account's bootstrap roles may do (the CDK's default when ``--trust`` is given in AWS too).
EXECUTION_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
#: ``cdk deploy --method`` values the emulator serves (``prepare-change-set`` only creates one: nothing deploys).
DEPLOY_METHODS = ("direct", "change-set")
_FAILED = re.compile(r"❌\s+(?:Environment\s+)?(?P<what>\S+)\s+failed(?: to deploy| to destroy| bootstrapping)?:?"
                     r"\s*(?P<cause>.*)")


@dataclass(frozen=True)
class StackTarget:
    """One stack of the synthesized app and where it deploys."""

    name: str
    account: str
    region: str


class DeployError(RuntimeError):
    """A CDK CLI command failed: ``stack`` (or environment) and ``cause`` from its output, ``output`` in full.

    ``str(error)`` is one line: ``STACK: CAUSE``."""

    def __init__(self, command: str, stack: str, cause: str, output: str) -> None:
        super().__init__(f"{stack}: {cause}")
        self.command = command
        self.stack = stack
        self.cause = cause
        self.output = output

    @classmethod
    def from_output(cls, command: str, output: str, exit_code: int) -> DeployError:
        """Read the failed stack (or environment) from the CLI's ``❌  NAME failed ...`` line and the cause from it or
        the ``‣ Error: ...`` line after it; CloudFormation's ``STATUS (reason)`` becomes ``reason (STATUS)``."""
        lines = [line.strip() for line in output.splitlines()]
        for index, line in enumerate(lines):
            match = _FAILED.search(line)
            if not match:
                continue
            cause = match["cause"] or next((ln for ln in lines[index + 1:] if ln), "")
            cause = re.sub(r"^‣\s*", "", cause)
            cause = re.sub(r"^\w*Error: ", "", cause)
            cause = re.sub(r"^The stack named \S+ failed [^:]*: ", "", cause)
            status = re.fullmatch(r"(?P<status>[A-Z_]+) \((?P<reason>.*)\)", cause)
            if status:
                cause = f"{status['reason']} ({status['status']})"
            return cls(command, match["what"], cause or "failed", output)
        errors = [line for line in lines if "Error" in line or "error" in line]
        last = errors[-1] if errors else next((line for line in reversed(lines) if line), "")
        return cls(command, f"cdk {command}", last or f"exit {exit_code}", output)


class LocalDeployment:
    """Run the CDK CLI of ``project`` against ``aws`` (a started ``LocalAws``), in every account the app names.

    ``bootstrap`` synthesizes the app once, then bootstraps every account/Region pair its stacks use, each with that
    account's credentials; an account other than the deploying one is bootstrapped with ``--trust`` the deploying
    account (as in AWS), so ``cdk deploy`` assumes its ``cdk-hnb659fds-deploy-role-ACCOUNT-REGION``. ``deploy``
    deploys that synthesized app (synthesizing again when the last synth was already deployed: a changed config
    file is picked up).

    Args:
        aws: the emulator.
        project: the CDK project root (holds ``cdk.json``). Default: the current directory.
        config: a config file (``-c config=...``). Default: the ``mrap`` context of ``cdk.json``.
        out: where CLI progress is echoed. Default: stdout.
        cdk: the CDK CLI command. Default: ``node_modules/.bin/cdk`` of the project.
        regions: the Regions to bootstrap in the deploying account, instead of the Regions of the synthesized stacks.
            Default: every stack's account and Region, from the synth.
        account: the deploying account, whose credentials run ``cdk deploy``; stacks without an account deploy there.
            Default: the account most stacks name (``aws.account`` when none names one, or with ``regions``).
        concurrency: stacks ``cdk deploy`` deploys at once (within the dependency order). Default: 4.
        assembly_dir: where the app is synthesized. Default: ``cdk.out.local`` in the project.
        method: ``cdk deploy --method``: ``direct`` (CreateStack/UpdateStack) or ``change-set`` (the CLI's default:
            CreateChangeSet + ExecuteChangeSet, what a user's own ``cdk deploy`` runs). Default: ``direct``.
    """

    def __init__(self, aws: LocalAws, *, project: Path | str = ".", config: str | None = None,
                 out: TextIO | None = None, cdk: list[str] | None = None, regions: list[str] | None = None,
                 account: str | None = None, concurrency: int = 4, assembly_dir: Path | str | None = None,
                 method: str = "direct") -> None:
        if method not in DEPLOY_METHODS:
            raise ValueError(f"method={method!r}: give one of {', '.join(DEPLOY_METHODS)} (cdk deploy --method)")
        self.method = method
        self._regions = regions
        self._account = account
        self.aws = aws
        self.project = Path(project).resolve()
        self.config = config
        self.out = out or sys.stdout
        self.cdk = cdk or [str(self.project / "node_modules" / ".bin" / "cdk")]
        self.concurrency = concurrency
        self.assembly_dir = Path(assembly_dir) if assembly_dir else self.project / "cdk.out.local"
        self._stacks: list[StackTarget] | None = None
        self._fresh = False
        #: The output of the last successful ``synth`` (the app's notes, e.g. the stacks left behind).
        self.last_synth_output = ""

    # --- the CLI ---------------------------------------------------------------------------------------------------

    def _env(self, account: str) -> dict[str, str]:
        env = self.aws.env_for(account)
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
        return env

    def _run(self, *args: str, account: str | None = None, echo: bool = True) -> str:
        context = ["-c", f"config={self.config}"] if self.config else []
        command = [*self.cdk, *args, *context, "--no-notices"]
        process = subprocess.Popen(command, cwd=self.project, env=self._env(account or self.account),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if echo and _worth_echoing(line):
                self.out.write(line)
                self.out.flush()
        if process.wait() != 0:
            raise DeployError.from_output(args[0], "".join(lines), process.returncode)
        return "".join(lines)

    # --- what the app deploys ----------------------------------------------------------------------------------------

    def synth(self) -> list[StackTarget]:
        """Synthesize the app into ``assembly_dir``; returns its stacks (a pipeline's stages included). What the
        app printed (its ``note:`` lines) is kept in ``last_synth_output``."""
        self.last_synth_output = self._run("synth", "--quiet", "-o", str(self.assembly_dir), echo=False,
                                           account=self.aws.account)
        self._stacks = _stacks_of(self.assembly_dir)
        self._fresh = True
        return self._stacks

    @property
    def stacks(self) -> list[StackTarget]:
        """The synthesized stacks (synthesizing first if needed); account-agnostic ones in the deploying account."""
        if self._stacks is None:
            self.synth()
        assert self._stacks is not None
        return self._stacks

    @property
    def account(self) -> str:
        """The deploying account (see ``account`` in the class docstring)."""
        if self._account is None and self._regions:
            self._account = self.aws.account
        if self._account is None:
            named = Counter(s.account for s in self.stacks if s.account)
            self._account = named.most_common(1)[0][0] if named else self.aws.account
        return self._account

    def accounts(self) -> dict[str, list[str]]:
        """{account: [Region, ...]}: what must be bootstrapped, the deploying account first."""
        if self._regions:
            return {self.account: sorted(set(self._regions))}
        found: dict[str, set[str]] = {self.account: set()}
        for stack in self.stacks:
            found.setdefault(stack.account or self.account, set()).add(stack.region)
        return {account: sorted(regions) for account, regions in found.items() if regions}

    def environments(self) -> list[str]:
        """``aws://ACCOUNT/REGION`` of every stack (what must be bootstrapped)."""
        return [f"aws://{account}/{region}" for account, regions in self.accounts().items() for region in regions]

    # --- bootstrap, deploy, destroy ------------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """Bootstrap every account/Region pair, each account with its own credentials (accounts in parallel)."""
        jobs = []
        for account, regions in self.accounts().items():
            trust = [] if account == self.account else [
                "--trust", self.account, "--cloudformation-execution-policies", EXECUTION_POLICY]
            jobs.append((account, ["bootstrap", *(f"aws://{account}/{r}" for r in regions), *trust,
                                   *self._app_args()]))
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(self._run, *args, account=account) for account, args in jobs]
            for future in futures:
                future.result()

    def deploy(self) -> None:
        """``cdk deploy --all`` with the deploying account's credentials (synthesizing again unless ``synth`` or
        ``bootstrap`` just did)."""
        if not self._fresh:
            self.synth()
        self._fresh = False
        # The outputs file goes next to the assembly (not the project's cdk-outputs.json, which records real
        # deploys): ``record_lock`` reads it.
        self._run("deploy", "--all", *self._app_args(), f"--method={self.method}", "--require-approval", "never",
                  "--concurrency", str(self.concurrency), "--outputs-file", str(self.outputs_file))

    @property
    def outputs_file(self) -> Path:
        """Where ``deploy`` has the CDK CLI write the stack outputs (``--outputs-file``)."""
        return self.assembly_dir / "cdk-outputs.json"

    def record_lock(self) -> list[str]:
        """After a ``deploy`` that succeeded: record what it deployed in the app's lock
        (``python -m mrap_constructs.lock record`` on this assembly and outputs file)."""
        from mrap_constructs.lock import record

        cwd = Path.cwd()
        os.chdir(self.project)  # the pending entry names its lock relative to the project, as the app saw it
        try:
            return record(self.assembly_dir, self.outputs_file)
        finally:
            os.chdir(cwd)

    def destroy(self) -> None:
        self._run("destroy", "--all", "--force", *self._app_args())

    def _app_args(self) -> list[str]:
        return ["--app", str(self.assembly_dir)] if self._stacks is not None else []

    # --- reading it back ---------------------------------------------------------------------------------------------

    def outputs(self) -> dict[str, dict[str, str]]:
        """Stack outputs by stack name, read from CloudFormation in every account and Region bootstrapped."""
        result: dict[str, dict[str, str]] = {}
        for account, regions in self.accounts().items():
            for region in regions:
                cloudformation = self.aws.client("cloudformation", region, account)
                for stack in cloudformation.describe_stacks()["Stacks"]:
                    if stack["StackName"] != "CDKToolkit":
                        result[stack["StackName"]] = {o["OutputKey"]: o["OutputValue"]
                                                      for o in stack.get("Outputs", [])}
        return result

    def inspect(self, name: str) -> DeployedMrap:
        """Read the MRAP called ``name`` (in the deploying account), each bucket's versioning and replication (in
        the bucket's own account), and the MRAP policy."""
        control = self.aws.client("s3control", "us-west-2", self.account)
        point = control.get_multi_region_access_point(AccountId=self.account, Name=name)["AccessPoint"]
        buckets = {r["Region"]: r["Bucket"] for r in point["Regions"]}
        owners = {r["Region"]: r.get("BucketAccountId", self.account) for r in point["Regions"]}
        deployed = DeployedMrap(
            name=name, alias=point["Alias"], arn=f"arn:aws:s3::{self.account}:accesspoint/{point['Alias']}",
            hostname=f"{point['Alias']}.accesspoint.s3-global.amazonaws.com", buckets=buckets,
            bucket_accounts=owners, outputs=self.outputs(),
        )
        for region, bucket in buckets.items():
            s3 = self.aws.client("s3", region, owners[region])
            deployed.versioning[region] = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
            try:
                deployed.replication[region] = s3.get_bucket_replication(Bucket=bucket)[
                    "ReplicationConfiguration"]["Rules"]
            except s3.exceptions.ClientError:
                deployed.replication[region] = []
        try:
            deployed.policy = json.loads(control.get_multi_region_access_point_policy(
                AccountId=self.account, Name=name)["Policy"]["Established"]["Policy"])
        except control.exceptions.ClientError:
            deployed.policy = None
        return deployed


def _stacks_of(assembly: Path) -> list[StackTarget]:
    """The stacks of a cloud assembly and of the assemblies nested in it (a CDK Pipelines stage is one);
    ``account`` is empty for an account-agnostic stack."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    stacks = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact["type"] == "aws:cloudformation:stack":
            account, region = artifact["environment"].removeprefix("aws://").split("/", 1)
            name = artifact.get("properties", {}).get("stackName") or artifact.get("displayName") or artifact_id
            stacks.append(StackTarget(name, "" if account.startswith("unknown-") else account, region))
        elif artifact["type"] == "cdk:cloud-assembly":
            stacks.extend(_stacks_of(assembly / artifact["properties"]["directoryName"]))
    return stacks


def _worth_echoing(line: str) -> bool:
    """Progress lines: which stack, which wave, done or failed — not every asset upload."""
    return any(marker in line for marker in ("deploying...", "destroying...", "✅", "❌", "Error", "failed",
                                             "bootstrapped", "Total time"))
