"""The app's typed configuration: CDK context key ``mrap`` in ``cdk.json``, or ``-c config=FILE.json``.

The key names are public API. Add keys freely; never rename one silently.

Each block maps one to one onto an option group of ``mrap_constructs.MrapSet`` (``ReplicationOptions``,
``MonitoringOptions``, ``FailoverOptions``, ``PrivateLinkOptions``, ``CloudFrontOptions``, ``BackfillOptions``), and the
config's rules are the library's (``mrap_set_problems``): this module checks shapes and types (pydantic) and states
no rule of its own.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mrap_constructs.backfill import DEFAULT_BACKFILL_KEY
from mrap_constructs.monitoring.alarms import AlarmThresholds
from mrap_constructs.mrap_set import SetOptions, mrap_set_problems
from mrap_constructs.naming import account_problem, mrap_name_problem
from mrap_constructs.options import (
    DEFAULT_VPC_CIDR,
    BackfillOptions,
    CloudFrontOptions,
    FailoverOptions,
    MonitoringOptions,
    PrivateLinkOptions,
)
from mrap_constructs.regions import home_region_problem, regions_problem
from mrap_constructs.replication import ReplicationMode, ReplicationOptions

CONTEXT_KEY = "mrap"
CONFIG_FILE_CONTEXT_KEY = "config"


class ConfigError(ValueError):
    """A config that cannot be used; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid mrap config:\n  - " + "\n  - ".join(problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ReplicationConfig(_Model):
    """``replication``: how the buckets keep each other in sync."""

    mode: Literal["full-mesh", "one-way", "none"] = "full-mesh"
    source_region: str | None = None
    rtc: bool = False
    metrics: bool = True
    kms: bool | None = None
    delete_markers: bool = True
    replica_modifications: bool = True
    storage_class: str | None = None
    prefix: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    #: Accept filtered replication (prefix/tags) with two or more active Regions, where objects outside the filter
    #: 404 whenever a request lands on a Region they were not written in (MRAP routing does not check existence).
    acknowledge_filtered_404s: bool = False

    def options(self) -> ReplicationOptions:
        """The block as ``MrapSet(replication=...)``."""
        return ReplicationOptions(
            mode=self.mode, source_region=self.source_region, kms=self.kms, rtc=self.rtc, metrics=self.metrics,
            delete_markers=self.delete_markers, replica_modifications=self.replica_modifications,
            storage_class=self.storage_class, prefix=self.prefix, tags=dict(self.tags),
            acknowledge_filtered_404s=self.acknowledge_filtered_404s)


#: The library's defaults are the config's: one statement of each threshold.
_THRESHOLDS = AlarmThresholds()


class ThresholdsConfig(_Model):
    """``monitoring.thresholds``: when replication alarms fire (defaults: ``AlarmThresholds``)."""

    failed_operations: float = Field(default=_THRESHOLDS.failed_operations, ge=0)
    latency_seconds: float = Field(default=_THRESHOLDS.latency_seconds, gt=0)
    pending_operations: float = Field(default=_THRESHOLDS.pending_operations, ge=0)
    pending_bytes: float = Field(default=_THRESHOLDS.pending_bytes, ge=0)
    evaluation_periods: int = Field(default=_THRESHOLDS.evaluation_periods, ge=1, le=100)


class MonitoringConfig(_Model):
    """``monitoring``: alarms, dashboard and logging. Everything on by default except CloudTrail, request metrics
    (billed per bucket) and the e-mail subscription."""

    dashboard: bool = True
    alarms: bool = True
    #: One alarm per replication rule and failure kind (4 N(N-1) alarms) instead of per source bucket (at most 8
    #: per source). Same detection and the same CloudWatch bill (alarms are billed per metric); more alarms.
    alarms_per_rule: bool = False
    alarm_email: str | None = None
    access_logs: bool = True
    cloudtrail: bool = False
    #: With cloudtrail: also log management events in the data-events trail (a second copy is billed per event).
    cloudtrail_management_events: bool = False
    request_metrics: bool = False
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)

    def options(self) -> MonitoringOptions:
        """The block as ``MrapSet(monitoring=...)`` (``alarms`` false: no thresholds, no alarms)."""
        return MonitoringOptions(
            alarms=AlarmThresholds(**self.thresholds.model_dump()) if self.alarms else None,
            alarm_email=self.alarm_email, alarms_per_rule=self.alarms_per_rule, dashboard=self.dashboard,
            access_logs=self.access_logs, request_metrics=self.request_metrics, cloudtrail=self.cloudtrail,
            cloudtrail_management_events=self.cloudtrail_management_events)


class PrivateLinkConfig(_Model):
    """``privatelink``: a minimal VPC with the MRAP interface endpoint in each listed Region."""

    regions: list[str]
    vpc_cidr: str = DEFAULT_VPC_CIDR
    restrict_to_endpoints: bool = False
    availability_zones: dict[str, list[str]] = Field(default_factory=dict)

    def options(self) -> PrivateLinkOptions:
        """The block as ``MrapSet(privatelink=...)``."""
        return PrivateLinkOptions(regions=list(self.regions), vpc_cidr=self.vpc_cidr,
                                  availability_zones={r: list(z) for r, z in self.availability_zones.items()},
                                  restrict_to_endpoints=self.restrict_to_endpoints)


class CloudFrontConfig(_Model):
    """``cloudfront``: a CloudFront distribution in front of the MRAP, signing with SigV4A (origin access control).

    Absent or ``enabled: false``: no distribution. See docs/cloudfront.md.
    """

    enabled: bool = True
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_All"
    default_root_object: str | None = None
    domain_names: list[str] = Field(default_factory=list)
    certificate_arn: str | None = None
    logging: bool = True
    web_acl_id: str | None = None

    def options(self) -> CloudFrontOptions:
        """The block as ``MrapSet(cloudfront=...)`` (call only when ``enabled``)."""
        return CloudFrontOptions(price_class=self.price_class, default_root_object=self.default_root_object,
                                 domain_names=list(self.domain_names), certificate_arn=self.certificate_arn,
                                 logging=self.logging, web_acl_id=self.web_acl_id)


class PipelineConfig(_Model):
    """``pipeline``: deploy the setup to many accounts with CDK Pipelines (see ``stacks/pipeline_stack.py``)."""

    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    branch: str = "main"
    connection_arn: str = Field(pattern=r"^arn:aws[\w-]*:(codestar-connections|codeconnections):")
    accounts: list[str] = Field(min_length=1)
    account: str
    region: str = "us-west-2"

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if account_problem(a)]
        if bad:
            raise ValueError(f"{bad}: each must be a 12-digit AWS account id")
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if why := account_problem(value):
            raise ValueError(why)
        return value


class FailoverConfig(_Model):
    """``failover``: the routing dials. Absent: every Region is active."""

    active: list[str]
    passive: list[str] | None = None
    routes_region: str | None = None
    #: A deploy that makes a Region active fails while its replication backlog is not empty (opt out: false).
    require_in_sync: bool = True
    #: With one-way replication, allow an active Region other than the source (its writes never replicate).
    accept_unreplicated_writes: bool = False

    def options(self) -> FailoverOptions:
        """The block as ``MrapSet(failover=...)``."""
        return FailoverOptions(active=list(self.active), passive=None if self.passive is None else list(self.passive),
                               routes_region=self.routes_region, require_in_sync=self.require_in_sync,
                               accept_unreplicated_writes=self.accept_unreplicated_writes)


class MrapConfig(_Model):
    """The whole app config. Defaults are what ``cdk deploy --all`` uses when a key is absent."""

    name: str
    #: The MRAP's own name when it differs from ``name`` (stack names keep ``name``): a new one replaces the MRAP
    #: blue/green (the path for adding or removing a Region; docs/operations.md). Default: ``name``.
    access_point_name: str | None = None
    regions: list[str]
    account: str | None = None
    home_region: str = "us-west-2"
    bucket_prefix: str | None = None
    removal_policy: Literal["retain", "destroy"] = "retain"
    encryption: Literal["sse-s3", "sse-kms"] = "sse-s3"
    allow_replacement: bool = False
    lock_file: str | None = None
    replication: ReplicationConfig = Field(default_factory=ReplicationConfig)
    failover: FailoverConfig | None = None
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    privatelink: PrivateLinkConfig | None = None
    bucket_accounts: dict[str, str] = Field(default_factory=dict)
    existing_buckets: dict[str, str] = Field(default_factory=dict)
    #: ``{region: KMS key ARN}``: the key of each adopted SSE-KMS bucket (needed with encryption sse-kms).
    existing_bucket_keys: dict[str, str] = Field(default_factory=dict)
    #: ARNs (ArnLike patterns) of the MRAP account's principals allowed to assume the read-only role in each bucket
    #: account (operators running `mrap activate` / `mrap failover`); the routes handler always may.
    bucket_account_readers: list[str] = Field(default_factory=list)
    pipeline: PipelineConfig | None = None
    #: S3 Batch Replication of what the existing buckets held before replication, new Regions passive until
    #: ``mrap activate``. Default (absent): on when ``existing_buckets`` has a bucket that replicates somewhere.
    backfill: bool | None = None
    #: Names the backfill; a new key starts new jobs (1-32 letters, digits, '.', '_', '-').
    backfill_key: str = DEFAULT_BACKFILL_KEY
    cloudfront: CloudFrontConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if why := mrap_name_problem(value):
            raise ValueError(why)
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and (why := account_problem(value)):
            raise ValueError(why)
        return value

    @field_validator("access_point_name")
    @classmethod
    def _access_point_name(cls, value: str | None) -> str | None:
        if value is not None and (why := mrap_name_problem(value)):
            raise ValueError(why)
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        if why := regions_problem(value):
            raise ValueError(why)
        return value

    @field_validator("home_region")
    @classmethod
    def _home_region(cls, value: str) -> str:
        if why := home_region_problem(value):
            raise ValueError(why)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MrapConfig:
        # The library's rules (MrapSet states them), with the config's key names.
        renamed = {"backfill.enabled": "backfill", "backfill.key": "backfill_key"}
        problems = [f"{renamed.get(field, field)}={value!r}: {rule}"
                    for field, value, rule in mrap_set_problems(**self.set_arguments(self.account))]
        if problems:  # one line each (parse_config reports them as separate problems)
            raise ValueError("\n".join(problems))
        return self

    def set_options(self) -> SetOptions:
        """The option groups of ``MrapSet`` for this config, one per block."""
        return SetOptions(
            replication=self.replication.options(), monitoring=self.monitoring.options(),
            failover=self.failover.options() if self.failover else None,
            privatelink=self.privatelink.options() if self.privatelink else None,
            cloudfront=self.cloudfront.options() if self.cloudfront_enabled and self.cloudfront else None,
            backfill=BackfillOptions(enabled=self.backfill, key=self.backfill_key))

    def set_arguments(self, account: str | None) -> dict[str, Any]:
        """``mrap_set_problems``' arguments (``MrapSet``'s, with ``options`` grouped) for ``account``."""
        return {"name": self.name, "regions": list(self.regions), "account": account,
                "home_region": self.home_region, "bucket_prefix": self.effective_bucket_prefix,
                "encryption": self.encryption, "kms": self.encryption == "sse-kms",
                "bucket_accounts": dict(self.bucket_accounts), "existing_buckets": dict(self.existing_buckets),
                "existing_bucket_keys": dict(self.existing_bucket_keys),
                "bucket_account_readers": list(self.bucket_account_readers), "options": self.set_options()}

    @property
    def effective_access_point_name(self) -> str:
        """``access_point_name``, or ``name`` when absent."""
        return self.access_point_name or self.name

    @property
    def effective_bucket_prefix(self) -> str:
        """``bucket_prefix``, or ``name`` when absent."""
        return self.bucket_prefix or self.name

    @property
    def cloudfront_enabled(self) -> bool:
        """Whether a distribution serves the MRAP: a ``cloudfront`` block with ``enabled`` true."""
        return self.cloudfront is not None and self.cloudfront.enabled

    @property
    def replication_kms(self) -> bool:
        """Replicate SSE-KMS objects: ``replication.kms``, defaulting to whether buckets use SSE-KMS."""
        if self.replication.kms is None:
            return self.encryption == "sse-kms"
        return self.replication.kms

    @property
    def replication_mode(self) -> ReplicationMode:
        return ReplicationMode(self.replication.mode)


def parse_config(raw: Any) -> MrapConfig:
    """Validate a raw config object, raising ``ConfigError`` with one line per problem."""
    if raw is None or raw == {} or raw == "":
        raise ConfigError([f"{CONTEXT_KEY}: the config is empty; give at least 'name' and 'regions'"])
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ConfigError([f"{CONTEXT_KEY}: not valid JSON ({err})"]) from None
    if not isinstance(raw, dict):
        raise ConfigError([f"{CONTEXT_KEY}: must be an object, got {type(raw).__name__}"])
    try:
        return MrapConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError([line for error in err.errors() for line in _describe(error, raw).splitlines()]) from None


def load_config(context: dict[str, Any]) -> MrapConfig:
    """Read the config from CDK context: ``config`` (a JSON file path) wins over the ``mrap`` object.

    Args:
        context: ``{key: value}`` of CDK context (``app.node.try_get_context`` per key).
    """
    path = context.get(CONFIG_FILE_CONTEXT_KEY)
    if path:
        file = Path(path)
        if not file.is_file():
            raise ConfigError([f"-c {CONFIG_FILE_CONTEXT_KEY}={path}: no such file"])
        try:
            raw = json.loads(file.read_text())
        except json.JSONDecodeError as err:
            raise ConfigError([f"{path}: not valid JSON ({err})"]) from None
        return parse_config(raw)
    return parse_config(context.get(CONTEXT_KEY))


def default_account(config: MrapConfig) -> str | None:
    """The account to deploy to: ``account``, else ``CDK_DEFAULT_ACCOUNT`` (set by the CDK CLI from your
    credentials), else None — the stacks are then account-agnostic and bucket names use ``AWS::AccountId``."""
    return config.account or os.environ.get("CDK_DEFAULT_ACCOUNT") or None


def _describe(error: dict, raw: dict) -> str:
    location = _location(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(error["loc"][:-1])
        # 0.7, not difflib's 0.6: at 0.6 'colour' would suggest 'cloudfront'; real typos score 0.75 and up.
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1, cutoff=0.7)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(sorted(known))})"
        return f"{location}: unknown key{hint}"
    if kind == "missing":
        return f"{location}: required key is missing"
    message = re.sub(r" or instance of \w+", "", error["msg"].removeprefix("Value error, "))
    if kind == "value_error" and not error["loc"]:  # the library's rules: each line names its key
        return "\n".join(f"{CONTEXT_KEY}.{line}" for line in message.splitlines())
    if "input" in error and kind != "value_error" or kind == "value_error" and not location.endswith(")"):
        value = error.get("input")
        if not isinstance(value, dict):
            return f"{location}={value!r}: {message}"
    return f"{location}: {message}"


def _location(loc: tuple) -> str:
    parts = [CONTEXT_KEY]
    for item in loc:
        if isinstance(item, int):
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts)


def _known_keys(parent: tuple) -> list[str]:
    model: type[BaseModel] = MrapConfig
    for part in parent:
        if isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            # ``X | None`` blocks (failover, privatelink, cloudfront...) suggest X's keys too.
            for candidate in (annotation, *typing.get_args(annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    model = candidate
                    break
    return list(model.model_fields)
