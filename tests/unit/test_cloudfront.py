"""CloudFront in front of the MRAP (``mrap_constructs.cloudfront``, the ``cloudfront`` config, wave 3): every
statement and property of the templates, the waves, the synth-time rejections, cdk-nag, cfn-lint and the deploy
rules. One app scenario (3 Regions, SSE-KMS, a custom domain) is synthesized once, with the nag packs on."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks

from mrap_constructs import (
    CloudFrontOptions,
    MrapBucket,
    MrapDistribution,
    MrapSet,
    MultiRegionAccessPoint,
    PrivateLinkOptions,
)
from mrap_constructs.rules import check_assembly
from stacks.config import ConfigError, parse_config
from tests.conftest import ACCOUNT, FEATURE_FLAGS, new_stack, regions
from tests.unit.test_cfn_lint import _lint_app

CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f3c2d1e-aaaa-bbbb-cccc-123456789012"
CONFIG = {"name": "media", "regions": ["us-east-1", "eu-west-1", "ap-southeast-2"], "account": ACCOUNT,
          "encryption": "sse-kms",
          "cloudfront": {"enabled": True, "price_class": "PriceClass_100", "default_root_object": "index.html",
                         "domain_names": ["media.example.com"], "certificate_arn": CERT}}
#: The managed policies the distribution uses (aws-cdk-lib's CachePolicy / ResponseHeadersPolicy constants).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"


@pytest.fixture(scope="module")
def app(synth):
    return synth(CONFIG)


@pytest.fixture(scope="module")
def cdn(app) -> Template:
    return app.template("media-cloudfront")


def _alias_join(suffix: str) -> dict:
    return {"Fn::Join": ["", [Match.any_value(), suffix]]}


def test_the_oac_signs_with_sigv4a_as_an_s3_origin(cdn):
    cdn.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    cdn.has_resource_properties("AWS::CloudFront::OriginAccessControl", {"OriginAccessControlConfig": {
        "SigningProtocol": "sigv4a", "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}})


def test_the_origin_is_the_mrap_hostname_https_only_with_the_oac(cdn):
    [distribution] = cdn.find_resources("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"]["Fn::Join"][1][0] == {"Fn::GetAtt": [Match.any_value(), "AccessPoint.Alias"]} or \
        origin["DomainName"]["Fn::Join"][1][0]["Fn::GetAtt"][1] == "AccessPoint.Alias"
    assert origin["DomainName"]["Fn::Join"][1][1] == ".accesspoint.s3-global.amazonaws.com"
    assert origin["CustomOriginConfig"] == {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
    assert origin["OriginAccessControlId"]["Fn::GetAtt"][1] == "Id"
    assert "S3OriginConfig" not in origin


def test_viewers_https_only_read_only_cached_with_security_headers(cdn):
    cdn.has_resource_properties("AWS::CloudFront::Distribution", {"DistributionConfig": Match.object_like({
        "DefaultCacheBehavior": Match.object_like({
            "ViewerProtocolPolicy": "https-only", "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
            "CachePolicyId": CACHING_OPTIMIZED, "ResponseHeadersPolicyId": SECURITY_HEADERS, "Compress": True}),
        "PriceClass": "PriceClass_100", "DefaultRootObject": "index.html", "HttpVersion": "http2and3",
        "IPV6Enabled": True, "Enabled": True,
        "Aliases": ["media.example.com"],
        "ViewerCertificate": {"AcmCertificateArn": CERT, "MinimumProtocolVersion": "TLSv1.2_2021",
                              "SslSupportMethod": "sni-only"},
        "Logging": {"Bucket": {"Fn::GetAtt": [Match.any_value(), "RegionalDomainName"]}, "Prefix": "cloudfront/"},
    })})


def test_the_log_bucket_has_acls_for_cloudfront_and_is_private(cdn):
    cdn.has_resource_properties("AWS::S3::Bucket", {
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}})


def test_the_mrap_policy_admits_the_account_and_this_distribution_only(cdn, app):
    [policy] = cdn.find_resources("AWS::S3::MultiRegionAccessPointPolicy").values()
    assert policy["Properties"]["MrapName"] == "media"
    owner, oac = policy["Properties"]["Policy"]["Statement"]
    assert owner["Sid"] == "AllowOwningAccountPrincipals"
    assert owner["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert oac["Sid"] == "AllowCloudFrontOacRead" and oac["Effect"] == "Allow"
    assert oac["Principal"] == {"Service": "cloudfront.amazonaws.com"} and oac["Action"] == "s3:GetObject"
    resource = oac["Resource"]["Fn::Join"][1]
    assert resource[0] == f"arn:aws:s3::{ACCOUNT}:accesspoint/" and resource[2] == "/object/*"
    distribution_id = next(iter(cdn.find_resources("AWS::CloudFront::Distribution")))
    assert oac["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Join": ["", [
        f"arn:aws:cloudfront::{ACCOUNT}:distribution/", {"Ref": distribution_id}]]}}}
    # The MRAP has one policy: it moved out of the access-point stack.
    app.template("media-access-point").resource_count_is("AWS::S3::MultiRegionAccessPointPolicy", 0)


def test_the_alias_is_read_again_when_the_mrap_is_replaced(cdn, app):
    fingerprint = app.deployment.access_point.replacement_fingerprint
    cdn.has_resource_properties("Custom::MrapAliasLookup", {"Create": Match.string_like_regexp(
        f'"physicalResourceId":{{"id":"media-alias-{fingerprint}"}}')})


def test_every_bucket_key_lets_the_accounts_distributions_decrypt(app):
    for region in CONFIG["regions"]:
        app.template(f"media-bucket-{region}").has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {
            "Statement": Match.array_with([{
                "Sid": "AllowCloudFrontOacDecrypt", "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                              "ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/*"}}}])}})


def test_buckets_need_no_statement_for_cloudfront(app):
    """The delegation to the MRAP account's access points admits requests through the MRAP, CloudFront's too."""
    policy = app.template("media-bucket-eu-west-1").find_resources("AWS::S3::BucketPolicy")
    text = str(policy)
    assert "cloudfront" not in text and "s3:DataAccessPointAccount" in text


def test_outputs_and_wave(app, cdn):
    assert set(cdn.find_outputs("*")) >= {"DistributionDomainName", "DistributionId", "DistributionUrl"}
    assert app.assembly.get_stack_by_name("media-cloudfront").environment.region == "us-east-1"
    assert [s.stack_name for s in app.deployment.waves[2]] == ["media-cloudfront"]
    assert app.deployment.cloudfront_stack.dependencies == [app.deployment.access_point_stack]


@pytest.mark.parametrize("n", [1, 3, 17])
def test_waves_for_n_regions(n):
    media = MrapSet(cdk.App(), "Media", name="media", regions=regions(n), account=ACCOUNT,
                    cloudfront=CloudFrontOptions())
    waves = [[s.stack_name for s in wave] for wave in media.waves]
    assert len(waves) == 3 and waves[2] == ["media-cloudfront"]
    assert len(waves[0]) == n and len(waves[1]) == (n + 1 if n > 1 else 1)
    assert set(media.cloudfront_stack.dependencies) == {media.access_point_stack}
    assert media.cloudfront_stack in media.stacks


def test_with_privatelink_the_cloudfront_stack_shares_wave_3():
    media = MrapSet(cdk.App(), "Media", name="media", regions=["us-east-1", "eu-west-1"], account=ACCOUNT,
                    cloudfront=CloudFrontOptions(), privatelink=PrivateLinkOptions(
                        regions=["eu-west-1"], availability_zones={"eu-west-1": ["eu-west-1a", "eu-west-1b"]}))
    assert [s.stack_name for s in media.waves[2]] == ["media-privatelink-eu-west-1", "media-cloudfront"]


def test_disabled_block_adds_nothing(synth):
    deployment = synth({**CONFIG, "encryption": "sse-s3", "cloudfront": {"enabled": False}}).deployment
    assert deployment.cloudfront_stack is None and len(deployment.waves) == 2


def test_is_nag_clean_with_specific_reasons(app):
    stack = app.deployment.cloudfront_stack
    for pack in (AwsSolutionsChecks(), NIST80053R5Checks(), HIPAASecurityChecks()):
        report = pack.validate_scope(stack)
        assert report.success, [v.rule_name for v in report.violations]


def test_is_lint_clean(app):
    assert _lint_app(app) == []


def test_passes_the_deploy_rules(app):
    assembly = app.assembly
    assert check_assembly([str(Path(assembly.directory) / s.template_file) for s in assembly.stacks]) == []


# --- the construct on its own -------------------------------------------------------------------------------------


def test_same_stack_mrap_gets_the_statement_in_its_own_policy():
    stack = new_stack()
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="media", buckets={"us-east-1": "a-us-east-1",
                                                                        "eu-west-1": "a-eu-west-1"})
    MrapDistribution(stack, "Cdn", access_point=mrap, logging=False)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::S3::MultiRegionAccessPointPolicy", {"Policy": {"Statement": [
        Match.object_like({"Sid": "AllowCloudFrontOacRead", "Principal": {"Service": "cloudfront.amazonaws.com"}})]}})
    template.has_resource_properties("AWS::CloudFront::Distribution", {"DistributionConfig": Match.object_like({
        "Origins": [Match.object_like({"DomainName": {"Fn::Join": ["", [
            {"Fn::GetAtt": [Match.any_value(), "Alias"]}, ".accesspoint.s3-global.amazonaws.com"]]}})]})})
    template.resource_count_is("AWS::S3::Bucket", 0)  # logging=False: no log bucket


def test_imported_mrap_warns_which_statement_to_add():
    stack = new_stack()
    mrap = MultiRegionAccessPoint.from_alias(stack, "Mrap", alias="mfzwi23gnjvgw.mrap")
    cdn = MrapDistribution(stack, "Cdn", access_point=mrap, logging=False)
    Annotations.from_stack(stack).has_warning("/TestStack/Cdn", Match.string_like_regexp(
        "mfzwi23gnjvgw.mrap is imported: .* AllowCloudFrontOacRead"))
    assert cdn.mrap_policy_statement.to_statement_json()["Condition"]["StringEquals"]["AWS:SourceArn"]


def test_fails_on_an_mrap_over_opt_in_regions():
    stack = new_stack()
    mrap = MultiRegionAccessPoint.from_alias(stack, "Mrap", alias="mfzwi23gnjvgw.mrap")
    with pytest.raises(ValueError, match=r"regions=\['us-east-1', 'af-south-1'\]: \['af-south-1'\] are opt-in "
                                         r"Regions: CloudFront OAC with an MRAP is not supported"):
        MrapDistribution(stack, "Cdn", access_point=mrap, regions=["us-east-1", "af-south-1"])


def test_fails_on_a_certificate_outside_us_east_1_and_unpaired_names():
    stack = new_stack()
    mrap = MultiRegionAccessPoint.from_alias(stack, "Mrap", alias="mfzwi23gnjvgw.mrap")
    cert = acm.Certificate.from_certificate_arn(stack, "Cert", CERT.replace("us-east-1", "eu-west-1"))
    with pytest.raises(ValueError, match="the certificate is in eu-west-1; CloudFront uses ACM certificates from "
                                         "us-east-1 only"):
        MrapDistribution(stack, "Cdn", access_point=mrap, certificate=cert, domain_names=["a.example.com"])
    with pytest.raises(ValueError, match="domain_names need an ACM certificate"):
        MrapDistribution(stack, "Cdn2", access_point=mrap, domain_names=["a.example.com"])


def test_fails_in_mrap_set_with_every_problem_at_once():
    with pytest.raises(ValueError) as err:
        MrapSet(cdk.App(), "Bad", name="media", regions=["us-east-1", "me-south-1"], account=ACCOUNT,
                cloudfront=CloudFrontOptions(certificate_arn="arn:aws:acm:eu-west-1:111111111111:certificate/x",
                                             price_class="PriceClass_1"),
                privatelink=PrivateLinkOptions(regions=["us-east-1"], restrict_to_endpoints=True))
    text = str(err.value)
    assert "['me-south-1'] are opt-in Regions" in text
    assert "cloudfront.price_class='PriceClass_1': must be one of" in text
    assert "cloudfront.domain_names=[]: a certificate serves alternate domain names only" in text
    assert "cloudfront.certificate_arn='arn:aws:acm:eu-west-1:111111111111:certificate/x': the certificate is in " \
           "eu-west-1" in text
    assert "privatelink.restrict_to_endpoints=True: denies every request that does not come through the VPC " \
           "endpoints" in text


@pytest.mark.parametrize(("cloudfront", "extra", "message"), [
    ({"certificate_arn": "arn:aws:acm:eu-west-1:111111111111:certificate/abc", "domain_names": ["a.example.com"]},
     {}, r"cloudfront.certificate_arn='arn:aws:acm:eu-west-1:.*': the certificate is in eu-west-1"),
    ({"domain_names": ["a.example.com"]}, {}, "cloudfront.certificate_arn=None: domain_names need an ACM certificate"),
    ({}, {"regions": ["us-east-1", "ap-east-1"]}, r"\['ap-east-1'\] are opt-in Regions: CloudFront OAC with an MRAP"),
    ({}, {"privatelink": {"regions": ["us-east-1"], "restrict_to_endpoints": True}},
     "privatelink.restrict_to_endpoints=True: denies every request"),
    ({"price_class": "PriceClass_50"}, {}, "cloudfront.price_class='PriceClass_50'"),
    ({"domain_names": ["Bad_Name"], "certificate_arn": CERT}, {}, "give lowercase DNS names"),
    ({"loging": True}, {}, "cloudfront.loging: unknown key \\(did you mean 'logging'\\?\\)"),
])
def test_fails_config_with_the_key_and_the_fix(cloudfront, extra, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"name": "media", "regions": ["us-east-1"], "cloudfront": cloudfront, **extra})


# --- the deploy rules catch hand-built mistakes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_rule_findings(tmp_path_factory):
    app = cdk.App(context=FEATURE_FLAGS, outdir=str(tmp_path_factory.mktemp("cf-bad")))
    buckets = cdk.Stack(app, "buckets", env=cdk.Environment(account=ACCOUNT, region="af-south-1"))
    MrapBucket(buckets, "Bucket", bucket_name="bad-af-south-1", encryption_key=kms.Key(
        buckets, "Key", enable_key_rotation=True))
    stack = cdk.Stack(app, "hand-built", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    stack.add_stack_dependency(buckets, "the buckets first")
    mrap = MultiRegionAccessPoint(stack, "Mrap", name="bad", buckets={"af-south-1": "bad-af-south-1"})
    oac = cloudfront.S3OriginAccessControl(stack, "Oac", signing=cloudfront.Signing.SIGV4_ALWAYS)
    distribution = cloudfront.Distribution(
        stack, "Cdn", domain_names=["a.example.com"],
        certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERT),
        default_behavior=cloudfront.BehaviorOptions(origin=origins.HttpOrigin(
            mrap.hostname, origin_access_control_id=oac.origin_access_control_id)))
    # aws-cdk-lib rejects a certificate ARN of another Region; an escape hatch (or a raw template) does not.
    distribution.node.default_child.add_property_override(
        "DistributionConfig.ViewerCertificate.AcmCertificateArn", CERT.replace("us-east-1", "eu-west-1"))
    assembly = app.synth()
    findings = check_assembly([str(Path(assembly.directory) / s.template_file) for s in assembly.stacks])
    return {f.rule: f for f in findings}


def test_rules_catch_sigv4_opt_in_region_key_and_certificate(bad_rule_findings):
    assert set(bad_rule_findings) == {"MrapOriginNotSigV4A", "MrapOriginInOptInRegion", "MrapOriginKeyDeniesCloudFront",
                                      "CloudFrontCertificateRegion"}
    assert "{'SigningProtocol': 'sigv4'}" in bad_rule_findings["MrapOriginNotSigV4A"].message
    assert "MRAP bad, with buckets in the opt-in Regions ['af-south-1']" in \
        bad_rule_findings["MrapOriginInOptInRegion"].message
    assert "does not allow cloudfront.amazonaws.com kms:Decrypt" in \
        bad_rule_findings["MrapOriginKeyDeniesCloudFront"].message
    assert bad_rule_findings["CloudFrontCertificateRegion"].location == \
        "Properties.DistributionConfig.ViewerCertificate"


def test_fails_nothing_in_the_bucket_stack_of_a_kms_set_without_cloudfront():
    media = MrapSet(cdk.App(), "Media", name="media", regions=["us-east-1"], account=ACCOUNT,
                    encryption=s3.BucketEncryption.KMS)
    assert "cloudfront" not in str(Template.from_stack(media.bucket_stacks["us-east-1"]).to_json())
