"""The many-accounts path: CDK Pipelines deploys the same MRAP setup to every target account.

Why CDK Pipelines rather than CloudFormation StackSets: the app is several stacks in several Regions with an order
between them (wave 1 buckets, wave 2 replication and the MRAP, wave 3 PrivateLink) and file assets (the custom-resource
handlers). CDK Pipelines deploys exactly the stacks `cdk deploy --all` does, orders them by their dependencies inside
each stage, publishes assets to every target, and updates itself from the repository. StackSets deploy one template to
many accounts/Regions but know neither cross-stack ordering nor CDK assets, so each wave would become its own StackSet
with hand-made sequencing — the home-made loop this avoids.

Layout: one ``MrapStage`` (a ``cdk.Stage`` holding the whole setup for one account) per target account, all in one
pipeline wave so accounts deploy in parallel; inside a stage the stacks deploy wave by wave.

cdk-nag: CDK runs a stage's validation plugins only for stages directly under the App, so the packs are registered on
the App (``build_pipeline``); they walk the whole tree — the pipeline, its cross-Region support stacks and every
stage. What CDK Pipelines generates is acknowledged here, scoped to the pipeline's own constructs, with the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import pipelines
from constructs import Construct

from mrap_constructs._nag import acknowledge_all, acknowledge_generated_policies, compliance
from stacks.app_builder import MrapDeployment, add_deploy_rules, add_nag_packs, build_app, stack_name_prefix
from stacks.config import MrapConfig


class MrapStage(cdk.Stage):
    """The whole MRAP setup for one account (the stacks ``cdk deploy --all`` deploys).

    Args:
        nag: register the cdk-nag packs on this stage. CDK runs them only when the stage is directly under the App;
            inside a pipeline stack register them on the App instead (``add_nag_packs``). Default: True.
    """

    def __init__(self, scope: Construct, id: str, *, config: MrapConfig, account: str, nag: bool = True,
                 overrides: dict | None = None) -> None:
        super().__init__(scope, id, env=cdk.Environment(account=account, region=config.home_region))
        self.deployment: MrapDeployment = build_app(self, config.model_copy(update={"account": account}), nag=nag,
                                                    overrides=overrides)


class PipelineStack(cdk.Stack):
    """A self-updating pipeline: source (CodeStar connection) -> synth (`make synth`) -> one stage per account.

    Args:
        config: the app config (``pipeline`` block required).
        env: where the pipeline lives (the tooling account and Region).
    """

    def __init__(self, scope: Construct, id: str, *, config: MrapConfig, env: cdk.Environment,
                 overrides: dict[str, dict] | None = None) -> None:
        super().__init__(scope, id, env=env, description=f"MRAP {config.name}: delivery pipeline")
        assert config.pipeline is not None
        settings = config.pipeline
        source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch,
                                                         connection_arn=settings.connection_arn)
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline", cross_account_keys=True, enable_key_rotation=True, self_mutation=True,
            synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"],
                                      primary_output_directory="cdk.out"),
        )
        wave = self.pipeline.add_wave("Accounts")
        self.stages: list[MrapStage] = []
        for account in _targets(settings.accounts):
            stage = MrapStage(self, f"Mrap-{account}", config=config, account=account, nag=False,
                              overrides=(overrides or {}).get(account))
            wave.add_stage(stage)
            self.stages.append(stage)
        self.pipeline.build_pipeline()  # the generated roles, policies and support stacks exist from here on
        _acknowledge_generated(self.pipeline)


def build_pipeline(app: cdk.App, config: MrapConfig, *, nag: bool = True,
                   overrides: dict[str, dict] | None = None) -> PipelineStack:
    """The many-accounts path: a CDK Pipelines stack deploying the setup to every ``pipeline.accounts`` account.

    Args:
        nag: check the pipeline and every stage with the cdk-nag packs (see ``add_nag_packs``). Default: True.
        overrides: per account, the ``MrapSet`` props its deployed state implies (``stacks.day2.check``).
            Default: none.
    """
    assert config.pipeline is not None
    stack = PipelineStack(app, f"{stack_name_prefix(config.name)}-pipeline", config=config,
                          env=cdk.Environment(account=config.pipeline.account, region=config.pipeline.region),
                          overrides=overrides)
    add_deploy_rules(app)
    if nag:
        add_nag_packs(app)
    return stack


def _targets(accounts: Sequence[str]) -> list[str]:
    return sorted(set(accounts))


#: Why the artifact buckets CodePipeline creates (in the pipeline stack and one per deploy Region) are as they are.
_ARTIFACT_BUCKET_REASONS = {
    "AwsSolutions-S1": "CodePipeline's artifact bucket holds transient build outputs; every read and write is by the "
                       "pipeline's own roles and recorded by CloudTrail.",
    **compliance("S3BucketLoggingEnabled", "CodePipeline's artifact bucket: transient build outputs, accessed only by "
                 "the pipeline's roles (CloudTrail records them)."),
    **compliance("S3BucketVersioningEnabled", "Pipeline artifacts are rebuilt by every run; old versions have no use."),
    **compliance("S3BucketReplicationEnabled", "Pipeline artifacts are rebuilt by every run; nothing to replicate."),
}


def _acknowledge_generated(pipeline: pipelines.CodePipeline) -> None:
    """Acknowledge what CDK Pipelines generates, on its own constructs only (never on the stages)."""
    acknowledge_generated_policies(
        pipeline,
        wildcards="CDK Pipelines' generated grants: objects of its artifact buckets, data keys of their KMS keys, its "
                  "CodeBuild log groups and report groups, and the CDK bootstrap roles it assumes to deploy.",
        inline="CDK Pipelines attaches its generated grants to its roles as inline default policies.",
    )
    acknowledge_all(pipeline, {
        **_ARTIFACT_BUCKET_REASONS,
        "HIPAA.Security-CodeBuildProjectSourceRepoUrl": "The CodeBuild projects take their source from CodePipeline "
        "artifacts; the repository is reached through a CodeStar connection, no credentials in CodeBuild.",
    })
    for support in pipeline.pipeline.cross_region_support.values():
        acknowledge_all(support.stack, _ARTIFACT_BUCKET_REASONS)
