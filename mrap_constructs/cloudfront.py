"""A CloudFront distribution in front of a Multi-Region Access Point, signing its origin requests with SigV4A (OAC).

What the design depends on, from the CloudFront developer guide, "Restrict access to an Amazon S3 Multi-Region Access
Point origin" (``OAC_MRAP_GUIDE``), which this module follows where AWS's pages disagree (the S3 user guide still
says "custom origin"; the CloudFront API reference lists ``sigv4`` as the only signing protocol, while botocore's
``cloudfront/2020-05-31`` model lists ``sigv4`` and ``sigv4a``):

* the origin's domain is the MRAP hostname, ``ALIAS.accesspoint.s3-global.amazonaws.com`` (an ``HttpOrigin``:
  aws-cdk-lib's ``S3BucketOrigin`` takes buckets only);
* the OAC signs with SigV4A (``Signing.SIGV4A_ALWAYS``: protocol ``sigv4a``, behaviour ``always``) and has origin
  type ``s3`` (botocore lists no MRAP origin type);
* the MRAP policy admits ``cloudfront.amazonaws.com`` for ``s3:GetObject`` on the MRAP's objects only when
  ``AWS:SourceArn`` is this distribution's ARN (``mrap_policy_statement``);
* OAC with an MRAP fails for buckets in opt-in Regions: rejected here, before a deploy.

The buckets: with AWS's delegation pattern (``MrapBucket``: ``Principal: *`` with ``s3:DataAccessPointAccount``, the
MRAP's account) a request that arrives through the MRAP is already admitted by every bucket's policy, so nothing is
added per bucket: the MRAP policy decides. SSE-KMS buckets need their key to admit CloudFront (``admit_cloudfront``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Annotations, RemovalPolicy, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mrap_constructs import _paths
from mrap_constructs._nag import acknowledge_all, compliance
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.access_point import IMultiRegionAccessPoint
from mrap_constructs.naming import partition_of
from mrap_constructs.policy import MultiRegionAccessPointPolicy
from mrap_constructs.regions import OPT_IN_REGIONS

#: The CloudFront developer guide page this module follows.
OAC_MRAP_GUIDE = ("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                  "private-content-restricting-access-to-s3-mrap.html")
#: The OAC page for S3 origins: the SSE-KMS key policy statement for CloudFront.
OAC_S3_GUIDE = ("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
                "private-content-restricting-access-to-s3.html")
#: The service principal OAC requests are made as.
CLOUDFRONT_PRINCIPAL = "cloudfront.amazonaws.com"
#: The only Region CloudFront takes ACM certificates from.
CERTIFICATE_REGION = "us-east-1"
#: What CloudFront may do through the MRAP: read objects (the guide's statement; the distribution allows GET/HEAD).
CLOUDFRONT_READ_ACTIONS: tuple[str, ...] = ("s3:GetObject",)
#: What CloudFront may do with a bucket's key to read SSE-KMS objects (OAC_S3_GUIDE, "SSE-KMS").
CLOUDFRONT_KEY_ACTIONS: tuple[str, ...] = ("kms:Decrypt",)

_ACM_ARN = re.compile(r"arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[\w-]+")
PRICE_CLASSES = {"PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
                 "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
                 "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL}


def certificate_region_problem(certificate_arn: str) -> str | None:
    """Why ``certificate_arn`` cannot serve a distribution (not an ACM ARN, or not in us-east-1), or None."""
    if is_unresolved(certificate_arn):
        return None
    match = _ACM_ARN.fullmatch(certificate_arn)
    if match is None:
        return "must be an ACM certificate ARN, arn:aws:acm:us-east-1:ACCOUNT:certificate/ID"
    if match.group("region") != CERTIFICATE_REGION:
        return (f"the certificate is in {match.group('region')}; CloudFront uses ACM certificates from "
                f"{CERTIFICATE_REGION} only: request or import it there")
    return None


def opt_in_problem(regions: Sequence[str]) -> str | None:
    """Why an MRAP over ``regions`` cannot be a CloudFront OAC origin (a bucket in an opt-in Region), or None."""
    opted = sorted(set(regions) & OPT_IN_REGIONS)
    if not opted:
        return None
    return (f"{opted} are opt-in Regions: CloudFront OAC with an MRAP is not supported for buckets in opt-in Regions "
            f"(requests routed there fail; {OAC_MRAP_GUIDE}); serve only MRAPs over Regions enabled by default")


def cloudfront_problems(*, regions: Sequence[str], domain_names: Sequence[str], certificate_arn: str | None,
                        price_class: str, restrict_to_endpoints: bool = False) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for every reason a set over ``regions`` cannot be served by a distribution with these
    settings: the one statement of these rules, for ``MrapSet`` and the app config alike."""
    found: list[tuple[str, object, str]] = []
    if why := opt_in_problem(regions):
        found.append(("regions", list(regions), why))
    if price_class not in PRICE_CLASSES:
        found.append(("price_class", price_class, f"must be one of {sorted(PRICE_CLASSES)}"))
    if domain_names and certificate_arn is None:
        found.append(("certificate_arn", None, "domain_names need an ACM certificate (in us-east-1) that covers them"))
    if certificate_arn is not None and not domain_names:
        found.append(("domain_names", list(domain_names), "a certificate serves alternate domain names only: give the "
                                                          "names it covers, or drop the certificate"))
    if certificate_arn is not None and (why := certificate_region_problem(certificate_arn)):
        found.append(("certificate_arn", certificate_arn, why))
    if restrict_to_endpoints:
        found.append(("restrict_to_endpoints", True, "denies every request that does not come through the VPC "
                                                     "endpoints, CloudFront's included: choose PrivateLink-only access "
                                                     "or CloudFront, not both"))
    return found


def distribution_arn(account: str, distribution_id: str, partition: str = "aws") -> str:
    """``arn:aws:cloudfront::ACCOUNT:distribution/ID`` (CloudFront ARNs are global: no Region)."""
    return f"arn:{partition}:cloudfront::{account}:distribution/{distribution_id}"


def admit_cloudfront(key: kms.Key, account: str) -> None:
    """Let CloudFront OAC requests of ``account``'s distributions decrypt with ``key`` (SSE-KMS bucket objects).

    The key policy is written in wave 1, before any distribution exists, so it cannot name the distribution's ARN as
    the S3 OAC guide's example does (``OAC_S3_GUIDE``); it names the account's distributions
    (``AWS:SourceArn`` like ``arn:aws:cloudfront::ACCOUNT:distribution/*``, ``AWS:SourceAccount``). That widens
    nothing: S3 asks KMS only for a request it has admitted, and the MRAP policy admits only this distribution.
    """
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="AllowCloudFrontOacDecrypt",
        principals=[iam.ServicePrincipal(CLOUDFRONT_PRINCIPAL)],
        actions=list(CLOUDFRONT_KEY_ACTIONS),
        resources=["*"],  # in a key policy, "*" is this key
        conditions={"StringEquals": {"AWS:SourceAccount": account},
                    "ArnLike": {"AWS:SourceArn": distribution_arn(account, "*", partition_of(Stack.of(key)))}},
    ))


class MrapDistribution(Construct):
    """A CloudFront distribution serving a Multi-Region Access Point with private buckets: an origin access control
    signs every origin request with SigV4A, and the MRAP policy admits this distribution only.

    Default settings: the MRAP hostname as an HTTPS-only origin (TLS 1.2), viewers HTTPS only, GET/HEAD only,
    the managed ``CachingOptimized`` cache policy and ``SecurityHeadersPolicy`` response-headers policy (HSTS,
    ``nosniff``, frame denial, referrer policy), HTTP/2 and 3, IPv6, standard access logs to a new private bucket,
    ``TLSv1.2_2021`` as the viewer minimum with a custom certificate, no WAF and no geo restriction.

    Args:
        scope: parent construct, in the MRAP's account (any Region: a distribution is global).
        id: construct id.
        access_point: the MRAP (created here, or imported by alias, ARN or name).
        regions: the MRAP's Regions, to reject opt-in Regions. Default: ``access_point.regions`` when it has them.
        mrap_policy: the MRAP policy to add the distribution's statement to. Default: the access point's own policy
            (``add_to_resource_policy``), which must then be in this stack; an imported MRAP has none here, and a
            warning names the statement to add.
        price_class: ``PriceClass_100``, ``PriceClass_200`` or ``PriceClass_All``. Default: ``PriceClass_All``.
        default_root_object: object served for ``/``. Default: none.
        domain_names: alternate domain names. Default: none (the ``*.cloudfront.net`` name only).
        certificate: the ACM certificate for ``domain_names``, in us-east-1. Default: none; required with
            ``domain_names``.
        logging: standard access logs. Default: True.
        log_bucket: where they go (ACLs enabled, as CloudFront's standard logging needs). Default: a new bucket.
        web_acl_id: an AWS WAF web ACL (ARN, created in us-east-1). Default: none.
        removal_policy: of the log bucket. Default: ``RETAIN``.
        comment: the distribution's comment. Default: none.

    Attributes:
        distribution, origin_access_control, log_bucket (or None), mrap_policy_statement, distribution_arn.

    Raises:
        ValueError: listing every invalid input (opt-in Regions, certificate Region or absence, price class).

    Example:
        site = MrapDistribution(stack, "Cdn", access_point=mrap, default_root_object="index.html")
        CfnOutput(stack, "Url", value=f"https://{site.distribution.distribution_domain_name}")
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_point: IMultiRegionAccessPoint,
        regions: Sequence[str] | None = None,
        mrap_policy: MultiRegionAccessPointPolicy | None = None,
        price_class: str = "PriceClass_All",
        default_root_object: str | None = None,
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        logging: bool = True,
        log_bucket: s3.IBucket | None = None,
        web_acl_id: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        comment: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        regions = list(regions if regions is not None else getattr(access_point, "regions", None) or [])
        self._validate(id, regions=regions, price_class=price_class, domain_names=list(domain_names),
                       certificate=certificate, logging=logging, log_bucket=log_bucket)
        # OAC_MRAP_GUIDE: SigV4A, origin type s3, signing always (the viewer's Authorization header never reaches S3).
        self.origin_access_control = cloudfront.S3OriginAccessControl(
            self, "OriginAccessControl", signing=cloudfront.Signing.SIGV4_A_ALWAYS,
            description="Signs requests to the MRAP with SigV4A")
        origin = origins.HttpOrigin(
            access_point.hostname, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            origin_access_control_id=self.origin_access_control.origin_access_control_id,
            # The id CDK generates from the origin's path (the Distribution's first origin, "Resource/Origin1"),
            # computed from the path an MrapSet's stack had before it became the set's child: unchanged ids.
            origin_id=_paths.unique_id([*_paths.stable_path(self), "Resource", "Origin1"])[-128:]
            if _paths.moved(self) else None)
        self.log_bucket: s3.IBucket | None = None
        if logging:
            self.log_bucket = log_bucket or self._new_log_bucket(removal_policy)
        self.distribution = cloudfront.Distribution(
            self, "Resource",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
            ),
            price_class=PRICE_CLASSES[price_class],
            default_root_object=default_root_object,
            domain_names=list(domain_names) or None,
            certificate=certificate,
            # Only with a certificate: the *.cloudfront.net one has a security policy CloudFront fixes.
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_ipv6=True,
            enable_logging=logging,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/" if logging else None,
            web_acl_id=web_acl_id,
            comment=comment,
        )
        stack = Stack.of(self)
        self.distribution_arn: str = distribution_arn(stack.account, self.distribution.distribution_id,
                                                      partition_of(stack))
        self.mrap_policy_statement = iam.PolicyStatement(
            sid="AllowCloudFrontOacRead",
            principals=[iam.ServicePrincipal(CLOUDFRONT_PRINCIPAL)],
            actions=list(CLOUDFRONT_READ_ACTIONS),
            resources=[access_point.object_arn("*")],
            conditions={"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
        )
        if mrap_policy is not None:
            mrap_policy.add_statements(self.mrap_policy_statement)
        elif not access_point.add_to_resource_policy(self.mrap_policy_statement).statement_added:
            Annotations.of(self).add_warning_v2(
                "mrap:CloudFrontPolicyNotAdded",
                f"{access_point.alias} is imported: its MRAP policy is not managed here. Add the statement "
                f"AllowCloudFrontOacRead (self.mrap_policy_statement) to it, or pass mrap_policy=; until then "
                f"CloudFront's requests are denied ({OAC_MRAP_GUIDE}).")
        self._acknowledge(logging=logging, custom_certificate=certificate is not None, waf=web_acl_id is not None)

    def _new_log_bucket(self, removal_policy: RemovalPolicy) -> s3.Bucket:
        # CloudFront's standard logging writes with ACLs, so the bucket must have them enabled (OBJECT_WRITER, as
        # aws-cdk-lib's Distribution documents): a BucketOwnerEnforced bucket fails the distribution's creation.
        bucket = s3.Bucket(
            self, "Logs", versioned=True, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            removal_policy=removal_policy, auto_delete_objects=removal_policy == RemovalPolicy.DESTROY)
        loop = "This is the CloudFront access-log bucket; logging it into itself would loop."
        acknowledge_all(bucket, {
            "AwsSolutions-S1": loop,
            **compliance("S3BucketLoggingEnabled", loop),
            **compliance("S3BucketReplicationEnabled", "CloudFront access logs are audit data of one distribution; "
                                                       "they are not replicated."),
            **compliance("S3DefaultEncryptionKMS", "CloudFront standard logging delivers to SSE-S3 buckets; a KMS "
                                                   "key would have to admit the log-delivery account."),
        })
        return bucket

    def _acknowledge(self, *, logging: bool, custom_certificate: bool, waf: bool) -> None:
        findings: dict[str, str] = {}
        if not waf:
            findings["AwsSolutions-CFR2"] = ("No AWS WAF web ACL by default (billed per ACL and rule, and the rules "
                                             "depend on the content); pass web_acl_id to attach one.")
        findings["AwsSolutions-CFR1"] = ("The MRAP serves its content worldwide; no country is excluded by default. "
                                         "Restrict with a geo restriction on the distribution if required.")
        if not custom_certificate:
            findings["AwsSolutions-CFR4"] = (
                "Without domain_names the distribution uses the *.cloudfront.net certificate, whose viewer security "
                "policy CloudFront sets; with a certificate the minimum is TLSv1.2_2021.")
        if not logging:
            opted_out = "Standard access logs were switched off explicitly (cloudfront.logging: false)."
            findings |= {"AwsSolutions-CFR3": opted_out, **compliance("CloudFrontDistributionAccessLogging", opted_out)}
        acknowledge_all(self.distribution, findings)

    def _validate(self, id: str, *, regions: list[str], price_class: str, domain_names: list[str],
                  certificate: acm.ICertificate | None, logging: bool, log_bucket: s3.IBucket | None) -> None:
        problems = Problems("MrapDistribution", id)
        certificate_arn = certificate.certificate_arn if certificate is not None else None
        for field, value, rule in cloudfront_problems(regions=regions, domain_names=domain_names,
                                                      certificate_arn=certificate_arn, price_class=price_class):
            problems.add("certificate" if field == "certificate_arn" else field, value, rule)
        if log_bucket is not None and not logging:
            problems.add("log_bucket", log_bucket.node.path, "logging=False: drop log_bucket, or turn logging on")
        problems.raise_if_any()

