"""The many-accounts path: CDK Pipelines deploys the same MRAP setup to every target account.

Why CDK Pipelines rather than CloudFormation StackSets: the app is several stacks in several Regions with an order
between them (wave 1 buckets, wave 2 replication and the MRAP, wave 3 PrivateLink) and file assets (the custom-resource
handlers). CDK Pipelines deploys exactly the stacks `cdk deploy --all` does, orders them by their dependencies inside
each stage, publishes assets to every target, and updates itself from the repository. StackSets deploy one template to
many accounts/Regions but know neither cross-stack ordering nor CDK assets, so each wave would become its own StackSet
with hand-made sequencing — the home-made loop this avoids.

Layout: one ``MrapStage`` (a ``cdk.Stage`` holding the whole setup for one account) per target account, all in one
pipeline wave so accounts deploy in parallel; inside a stage the stacks deploy wave by wave.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import pipelines
from constructs import Construct

from stacks.app_builder import MrapDeployment, build_app
from stacks.config import MrapConfig


class MrapStage(cdk.Stage):
    """The whole MRAP setup for one account (the stacks ``cdk deploy --all`` deploys), cdk-nag included."""

    def __init__(self, scope: Construct, id: str, *, config: MrapConfig, account: str) -> None:
        super().__init__(scope, id, env=cdk.Environment(account=account, region=config.home_region))
        self.deployment: MrapDeployment = build_app(self, config.model_copy(update={"account": account}))


class PipelineStack(cdk.Stack):
    """A self-updating pipeline: source (CodeStar connection) -> synth (`make synth`) -> one stage per account.

    Args:
        config: the app config (``pipeline`` block required).
        env: where the pipeline lives (the tooling account and Region).
    """

    def __init__(self, scope: Construct, id: str, *, config: MrapConfig, env: cdk.Environment) -> None:
        super().__init__(scope, id, env=env, description=f"MRAP {config.name}: delivery pipeline")
        assert config.pipeline is not None
        settings = config.pipeline
        source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch,
                                                         connection_arn=settings.connection_arn)
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline", cross_account_keys=True, self_mutation=True,
            synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"],
                                      primary_output_directory="cdk.out"),
        )
        wave = self.pipeline.add_wave("Accounts")
        self.stages: list[MrapStage] = []
        for account in _targets(settings.accounts):
            stage = MrapStage(self, f"Mrap-{account}", config=config, account=account)
            wave.add_stage(stage)
            self.stages.append(stage)


def _targets(accounts: Sequence[str]) -> list[str]:
    return sorted(set(accounts))
