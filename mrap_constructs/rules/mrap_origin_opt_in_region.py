"""CloudFront OAC with an MRAP is not supported for buckets in opt-in Regions.

The CloudFront developer guide: "OAC with S3 Multi-Region Access Points is not supported for MRAP endpoints backed by
buckets in opt-in Regions. Requests routed to a bucket in an opt-in Region will fail." The deploy succeeds; the
requests fail in production. Checked for MRAPs and buckets this assembly creates (``mrap_constructs.regions``).
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.regions import OPT_IN_REGIONS
from mrap_constructs.rules._assembly import Assembly, Finding, mrap_origins

NAME = "MrapOriginInOptInRegion"
SOURCE = ("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
          "private-content-restricting-access-to-s3-mrap.html")
FIX = "serve through CloudFront only an MRAP whose buckets are all in Regions enabled by default"


def check(assembly: Assembly) -> Iterator[Finding]:
    for origin in mrap_origins(assembly):
        if origin.oac is None:
            continue
        opted = sorted({stack.region for stack, _, _ in origin.buckets} & OPT_IN_REGIONS)
        if opted:
            yield Finding(NAME, origin.stack.name, origin.logical_id, origin.location,
                          f"the origin is MRAP {origin.mrap_name}, with buckets in the opt-in Regions {opted}: "
                          "OAC requests routed there fail")
