"""A CloudFront distribution's ACM certificate must be in us-east-1.

"To use an ACM certificate with CloudFront, make sure you request (or import) the certificate in the US East
(N. Virginia) Region (us-east-1)"; CloudFormation fails the distribution otherwise (InvalidViewerCertificate).
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.cloudfront import certificate_region_problem
from mrap_constructs.rules._assembly import Assembly, Finding, flat

NAME = "CloudFrontCertificateRegion"
SOURCE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html"
FIX = "request or import the certificate in us-east-1 and give that ARN"


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        for logical_id, props in stack.resources("AWS::CloudFront::Distribution"):
            arn = props.get("DistributionConfig", {}).get("ViewerCertificate", {}).get("AcmCertificateArn")
            if not isinstance(arn, str) or "<" in flat(arn):
                continue  # a reference: its Region is known at deploy time only
            if why := certificate_region_problem(arn):
                yield Finding(NAME, stack.name, logical_id, "Properties.DistributionConfig.ViewerCertificate", why)
