"""``MrapSet``'s option groups, one per block of the app config: ``monitoring=``, ``failover=``, ``privatelink=``,
``cloudfront=`` and ``backfill=`` (``replication=`` takes ``ReplicationOptions``, in ``replication.py``).

Each is a frozen dataclass whose ``problems()`` states the rules of its own fields, once: ``MrapSet`` and the app
config (``stacks/config.py``) both call it. ``problems()`` returns ``(field, value, rule)`` with ``field`` relative to
the group (``"vpc_cidr"``); the caller prefixes the group (``"privatelink.vpc_cidr"``). Rules that need the set's
Regions take them as an argument.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mrap_constructs.backfill import DEFAULT_BACKFILL_KEY, backfill_key_problem
from mrap_constructs.cloudfront import cloudfront_problems
from mrap_constructs.monitoring.alarms import AlarmThresholds
from mrap_constructs.regions import SUPPORTED_REGIONS, failover_problems, suggest_region

#: The VPC range of a PrivateLink stack when none is given.
DEFAULT_VPC_CIDR = "10.20.0.0/16"

#: An alternate domain name of a distribution: lowercase DNS labels, optionally one leading wildcard label.
#: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/CNAMEs.html
_DOMAIN_NAME = re.compile(r"(\*\.)?([a-z0-9-]+\.)+[a-z]{2,63}")

Problem = tuple[str, object, str]


@dataclass(frozen=True)
class MonitoringOptions:
    """``monitoring=``: alarms, dashboard and logging. Everything on by default except CloudTrail, request metrics
    (billed per bucket) and the e-mail subscription.

    Args:
        alarms: replication alarm thresholds, or None for no alarms. Default: ``AlarmThresholds()``. Needs
            ``ReplicationOptions.metrics`` (the alarms watch replication metrics).
        alarm_email: subscribe this address to each alarm topic. Default: none.
        alarms_per_rule: one alarm per rule and failure kind instead of per source bucket. Default: False.
        dashboard: a CloudWatch dashboard in the home Region. Default: True.
        access_logs: S3 server access logs to a log bucket per Region. Default: True.
        request_metrics: CloudWatch request metrics per bucket. Default: False.
        cloudtrail: a data-events trail on the buckets. Default: False.
        cloudtrail_management_events: with ``cloudtrail``, also log management events in that trail (a second copy
            of management events is billed per event). Default: False.
    """

    alarms: AlarmThresholds | None = field(default_factory=AlarmThresholds)
    alarm_email: str | None = None
    alarms_per_rule: bool = False
    dashboard: bool = True
    access_logs: bool = True
    request_metrics: bool = False
    cloudtrail: bool = False
    cloudtrail_management_events: bool = False

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        if self.alarm_email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email):
            found.append(("alarm_email", self.alarm_email, "give an e-mail address such as 'ops@example.com'"))
        return found


@dataclass(frozen=True)
class FailoverOptions:
    """``failover=``: the routing dials (a routes resource sets them on every deploy). None: every Region active.

    Args:
        active: Regions receiving traffic (dial 100).
        passive: Regions standing by (dial 0). Default: every Region not in ``active``.
        routes_region: where to call the routes API. Default: one of the Regions that serves it.
        require_in_sync: a deploy that activates a Region fails while its replication backlog is not empty.
            Default: True.
        accept_unreplicated_writes: allow ``one-way`` replication with ``active`` naming a Region other than the
            source (writes routed there never replicate anywhere). Default: False (a ``ValueError`` naming both).
    """

    active: Sequence[str]
    passive: Sequence[str] | None = None
    routes_region: str | None = None
    require_in_sync: bool = True
    accept_unreplicated_writes: bool = False

    def problems(self, regions: Sequence[str]) -> list[Problem]:
        return failover_problems(regions, list(self.active), None if self.passive is None else list(self.passive),
                                 self.routes_region)


@dataclass(frozen=True)
class PrivateLinkOptions:
    """``privatelink=``: a minimal VPC with the MRAP interface endpoint in each listed Region (wave 3).

    Args:
        regions: the Regions that get a VPC and an endpoint.
        vpc_cidr: their VPC range, an IPv4 /16 to /22 (two /24 subnets). Default: ``10.20.0.0/16``.
        availability_zones: ``{region: [az, az]}`` (avoids a lookup). Default: looked up.
        restrict_to_endpoints: the MRAP policy denies data access not through the endpoints (wave 4).
            Default: False.
    """

    regions: Sequence[str]
    vpc_cidr: str = DEFAULT_VPC_CIDR
    availability_zones: Mapping[str, Sequence[str]] = field(default_factory=dict)
    restrict_to_endpoints: bool = False

    def problems(self) -> list[Problem]:
        found: list[Problem] = []
        regions = list(self.regions)
        if not regions:
            found.append(("regions", regions, "name at least one Region for an endpoint, or drop privatelink"))
        unknown = [r for r in regions if r not in SUPPORTED_REGIONS]
        if unknown:
            found.append(("regions", unknown, f"not AWS Regions with MRAP support{suggest_region(unknown[0])}"))
        if len(set(regions)) != len(regions):
            found.append(("regions", regions, "list each Region once"))
        try:
            network = ipaddress.IPv4Network(self.vpc_cidr)
        except ValueError:
            found.append(("vpc_cidr", self.vpc_cidr, "must be an IPv4 CIDR such as '10.20.0.0/16' (IPv6 is not "
                                                     "supported by MRAPs)"))
        else:
            if not 16 <= network.prefixlen <= 22:
                found.append(("vpc_cidr", self.vpc_cidr, "use a /16 to /22 network: the VPC gets two /24 subnets"))
        for region, zones in self.availability_zones.items():
            if region not in regions:
                found.append((f"availability_zones[{region!r}]", list(zones), f"{region} is not in privatelink "
                                                                               "regions"))
            elif len(zones) != 2 or any(not z.startswith(region) for z in zones):
                found.append((f"availability_zones[{region!r}]", list(zones), f"give two AZs of {region}"))
        return found


@dataclass(frozen=True)
class CloudFrontOptions:
    """``cloudfront=``: a CloudFront distribution in front of the MRAP (wave 3, us-east-1; see ``MrapDistribution``),
    which then holds the MRAP policy. Not with ``PrivateLinkOptions.restrict_to_endpoints`` nor opt-in Regions.

    Args:
        price_class: ``PriceClass_100``, ``PriceClass_200`` or ``PriceClass_All``. Default: ``PriceClass_All``.
        default_root_object: the object served for ``/``. Default: none.
        domain_names: alternate domain names. Default: none.
        certificate_arn: ACM certificate (us-east-1) for the domain names. Default: none.
        logging: standard access logs to a new bucket. Default: True.
        web_acl_id: an AWS WAF web ACL for the distribution. Default: none.
    """

    price_class: str = "PriceClass_All"
    default_root_object: str | None = None
    domain_names: Sequence[str] = ()
    certificate_arn: str | None = None
    logging: bool = True
    web_acl_id: str | None = None

    def problems(self, regions: Sequence[str], *, restrict_to_endpoints: bool = False) -> list[Problem]:
        """Rules of the distribution's settings, and of serving ``regions`` through CloudFront (fields ``regions`` and
        ``restrict_to_endpoints`` name the set's, not this group's)."""
        found: list[Problem] = []
        domains = list(self.domain_names)
        bad = [d for d in domains if not _DOMAIN_NAME.fullmatch(d)]
        if bad:
            found.append(("domain_names", bad, "give lowercase DNS names such as 'media.example.com' (or "
                                               "'*.example.com')"))
        if len(set(domains)) != len(domains):
            found.append(("domain_names", domains, "list each domain name once"))
        if self.default_root_object is not None and (not self.default_root_object
                                                     or self.default_root_object.startswith("/")):
            found.append(("default_root_object", self.default_root_object,
                          "give an object key without a leading '/', such as 'index.html'"))
        found += cloudfront_problems(regions=regions, domain_names=domains, certificate_arn=self.certificate_arn,
                                     price_class=self.price_class, restrict_to_endpoints=restrict_to_endpoints)
        return found


@dataclass(frozen=True)
class BackfillOptions:
    """``backfill=``: copy what the buckets holding data (``existing_buckets``) held before replication with an S3
    Batch Replication job per such bucket (wave 3), the other Regions passive until ``mrap activate``.

    Args:
        enabled: True, False, or None for on when an existing bucket replicates somewhere. Default: None.
        key: names the backfill; a new key starts new jobs. Default: ``"initial"``.
    """

    enabled: bool | None = None
    key: str = DEFAULT_BACKFILL_KEY

    def problems(self) -> list[Problem]:
        why = backfill_key_problem(self.key)
        return [("key", self.key, why)] if why else []


__all__ = ["DEFAULT_VPC_CIDR", "BackfillOptions", "CloudFrontOptions", "FailoverOptions",
           "MonitoringOptions", "PrivateLinkOptions"]
