"""The app's typed configuration: CDK context key ``mrap`` in ``cdk.json``, or ``-c config=FILE.json``.

The key names are public API. Add keys freely; never rename one silently.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mrap_constructs.cloudfront import cloudfront_problems
from mrap_constructs.monitoring.alarms import AlarmThresholds
from mrap_constructs.mrap_set import backfill_problems, filter_problems, set_problems, unreplicated_active_problems
from mrap_constructs.naming import account_problem, bucket_prefix_problem, mrap_name_problem
from mrap_constructs.regions import MAX_REGIONS, SUPPORTED_REGIONS, failover_problems, suggest_region
from mrap_constructs.replication import REPLICA_STORAGE_CLASSES, ReplicationMode, replication_plan

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

    @field_validator("storage_class")
    @classmethod
    def _storage_class(cls, value: str | None) -> str | None:
        if value is not None and value not in REPLICA_STORAGE_CLASSES:
            raise ValueError(f"must be one of {sorted(REPLICA_STORAGE_CLASSES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ReplicationConfig:
        if self.rtc and not self.metrics:
            raise ValueError("rtc=true needs metrics=true (Replication Time Control reports through metrics)")
        if self.tags and self.delete_markers:
            # https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
            raise ValueError("replication.tags with replication.delete_markers=true (the default): S3 rejects a rule "
                             "that filters on tags and replicates delete markers; set delete_markers: false, or drop "
                             "tags")
        if self.source_region is not None and self.mode != "one-way":
            raise ValueError(f"source_region only applies to mode 'one-way', not {self.mode!r}")
        return self


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
    alarm_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    access_logs: bool = True
    cloudtrail: bool = False
    #: With cloudtrail: also log management events in the data-events trail (a second copy is billed per event).
    cloudtrail_management_events: bool = False
    request_metrics: bool = False
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)


class PrivateLinkConfig(_Model):
    """``privatelink``: a minimal VPC with the MRAP interface endpoint in each listed Region."""

    regions: list[str] = Field(min_length=1)
    vpc_cidr: str = "10.20.0.0/16"
    restrict_to_endpoints: bool = False
    availability_zones: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _zones(self) -> PrivateLinkConfig:
        for region, zones in self.availability_zones.items():
            if region not in self.regions:
                raise ValueError(f"availability_zones[{region!r}]: {region} is not in privatelink.regions")
            if len(zones) != 2 or any(not z.startswith(region) for z in zones):
                raise ValueError(f"availability_zones[{region!r}]={zones}: give two AZs of {region}")
        return self

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"{unknown} are not AWS Regions with MRAP support{suggest_region(unknown[0])}")
        if len(set(value)) != len(value):
            raise ValueError("list each Region once")
        return value

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError("must be an IPv4 CIDR such as '10.20.0.0/16' (IPv6 is not supported by MRAPs)") from None
        if not 16 <= network.prefixlen <= 22:
            raise ValueError("use a /16 to /22 network: the VPC gets two /24 subnets")
        return value


class CloudFrontConfig(_Model):
    """``cloudfront``: a CloudFront distribution in front of the MRAP, signing with SigV4A (origin access control).

    Absent or ``enabled: false``: no distribution. See docs/cloudfront.md.
    """

    enabled: bool = True
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_All"
    default_root_object: str | None = Field(default=None, min_length=1, pattern=r"^[^/]")
    domain_names: list[str] = Field(default_factory=list)
    certificate_arn: str | None = None
    logging: bool = True
    web_acl_id: str | None = None

    @field_validator("domain_names")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not re.fullmatch(r"(\*\.)?([a-z0-9-]+\.)+[a-z]{2,63}", d)]
        if bad:
            raise ValueError(f"{bad}: give lowercase DNS names such as 'media.example.com' (or '*.example.com')")
        if len(set(value)) != len(value):
            raise ValueError("list each domain name once")
        return value


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

    active: list[str] = Field(min_length=1)
    passive: list[str] | None = None
    routes_region: str | None = None
    #: A deploy that makes a Region active fails while its replication backlog is not empty (opt out: false).
    require_in_sync: bool = True
    #: With one-way replication, allow an active Region other than the source (its writes never replicate).
    accept_unreplicated_writes: bool = False

    # Checked against the MRAP's Regions by MrapConfig (regions.failover_problems, shared with the construct).


class MrapConfig(_Model):
    """The whole app config. Defaults are what ``cdk deploy --all`` uses when a key is absent."""

    name: str
    #: The MRAP's own name when it differs from ``name`` (stack names keep ``name``): a new one replaces the MRAP
    #: blue/green (the path for adding or removing a Region; docs/operations.md). Default: ``name``.
    access_point_name: str | None = None
    regions: list[str] = Field(min_length=1)
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
    backfill_key: str = Field(default="initial", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
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
        problems = []
        for region in value:
            if region not in SUPPORTED_REGIONS:
                problems.append(f"{region!r} does not support MRAPs{suggest_region(region)}")
        duplicates = sorted({r for r in value if value.count(r) > 1})
        if duplicates:
            problems.append(f"{duplicates} listed more than once (one bucket per Region)")
        if len(value) > MAX_REGIONS:
            problems.append(f"{len(value)} Regions; an MRAP holds at most {MAX_REGIONS}")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("home_region")
    @classmethod
    def _home_region(cls, value: str) -> str:
        if value not in SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a Region that supports MRAPs{suggest_region(value)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MrapConfig:
        problems = []
        if why := bucket_prefix_problem(self.effective_bucket_prefix, self.regions):
            problems.append(f"bucket_prefix={self.effective_bucket_prefix!r}: {why}")
        source = self.replication.source_region
        if source is not None and source not in self.regions:
            problems.append(f"replication.source_region={source!r}: must be one of regions {self.regions}")
        if self.failover is not None:
            problems += [f"failover.{field}={value!r}: {rule}" for field, value, rule in failover_problems(
                self.regions, self.failover.active, self.failover.passive, self.failover.routes_region)]
            problems += [f"failover.active={value!r}: {rule}".replace("(replication_source_region)", "(replication."
                                                                       "source_region)")
                         .replace("accept_unreplicated_writes", "failover.accept_unreplicated_writes: true")
                         for _field, value, rule in unreplicated_active_problems(
                             plan=replication_plan(self.regions, self.replication_mode,
                                                   source if source in self.regions else None),
                             failover_active=[r for r in self.failover.active if r in self.regions],
                             accept=self.failover.accept_unreplicated_writes)]
        if self.monitoring.alarms and not self.replication.metrics and self.replication.mode != "none":
            problems.append("monitoring.alarms=true needs replication.metrics=true (the alarms watch replication "
                            "metrics); turn metrics on or alarms off")
        problems += [f"{field}={value!r}: {rule}" for field, value, rule in set_problems(
            regions=self.regions, account=self.account, bucket_accounts=self.bucket_accounts,
            existing_buckets=self.existing_buckets, encryption=self.encryption, kms=self.encryption == "sse-kms",
            existing_bucket_keys=self.existing_bucket_keys)]
        plan = replication_plan(self.regions, self.replication_mode, source if source in self.regions else None)
        problems += [f"{field}={value!r}: {rule}" for field, value, rule in filter_problems(
            regions=self.regions, plan=plan, prefix=self.replication.prefix, tags=self.replication.tags,
            active=self.failover.active if self.failover else None,
            acknowledged=self.replication.acknowledge_filtered_404s)]
        for index, arn in enumerate(self.bucket_account_readers):
            if not re.fullmatch(r"arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/*?-]+", arn):
                problems.append(f"bucket_account_readers[{index}]={arn!r}: give an IAM role or user ARN (wildcards "
                                "allowed), e.g. arn:aws:iam::111122223333:role/operators")
            elif self.account and arn.split(":")[4] != self.account:
                problems.append(f"bucket_account_readers[{index}]={arn!r}: must be a principal of the MRAP account "
                                f"{self.account} (the reader roles trust that account)")
        problems += [f"{field}={value!r}: {rule}" for field, value, rule in backfill_problems(
            existing_buckets=self.existing_buckets, backfill=self.backfill,
            plan=replication_plan(self.regions, self.replication_mode, source if source in self.regions else None))]
        if self.cloudfront_enabled:
            cdn = self.cloudfront
            problems += [
                f"{field if field in ('regions', 'restrict_to_endpoints') else 'cloudfront.' + field}={value!r}: {rule}"
                .replace("restrict_to_endpoints=", "privatelink.restrict_to_endpoints=")
                for field, value, rule in cloudfront_problems(
                    regions=self.regions, domain_names=cdn.domain_names, certificate_arn=cdn.certificate_arn,
                    price_class=cdn.price_class,
                    restrict_to_endpoints=bool(self.privatelink and self.privatelink.restrict_to_endpoints))]
        if self.replication.kms and self.encryption != "sse-kms":
            problems.append("replication.kms=true: needs encryption='sse-kms' (the buckets have no KMS keys)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
        raise ConfigError([_describe(error, raw) for error in err.errors()]) from None


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
