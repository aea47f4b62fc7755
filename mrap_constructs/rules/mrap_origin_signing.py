"""A CloudFront origin access control in front of an MRAP must sign with SigV4A, as an ``s3`` origin type.

An MRAP's global endpoint accepts only SigV4A-signed requests (they may be served by any of its Regions); an OAC that
signs with SigV4 gets every request refused. The CloudFront developer guide creates the OAC with
``SigningProtocol: sigv4a`` and ``OriginAccessControlOriginType: s3`` (botocore ``cloudfront/2020-05-31``,
``OriginAccessControlSigningProtocols``: ``sigv4``, ``sigv4a``; ``OriginAccessControlOriginTypes`` has no MRAP type),
and signing ``always``: ``never`` turns the OAC off.
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, mrap_origins

NAME = "MrapOriginNotSigV4A"
SOURCE = ("https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
          "private-content-restricting-access-to-s3-mrap.html")
FIX = ("give the origin an OAC with SigningProtocol sigv4a, origin type s3 and SigningBehavior always "
       "(aws_cloudfront.Signing.SIGV4A_ALWAYS; mrap_constructs.cloudfront.MrapDistribution does this)")
EXPECTED = {"SigningProtocol": "sigv4a", "OriginAccessControlOriginType": "s3", "SigningBehavior": "always"}


def check(assembly: Assembly) -> Iterator[Finding]:
    for origin in mrap_origins(assembly):
        if origin.oac is None:
            continue  # no OAC: unsigned requests, which only a public MRAP serves (not this rule's concern)
        wrong = {k: origin.oac.get(k) for k, v in EXPECTED.items() if origin.oac.get(k) != v}
        if wrong:
            yield Finding(NAME, origin.stack.name, origin.logical_id, origin.location,
                          f"the MRAP origin's OAC has {wrong}; an MRAP accepts SigV4A-signed requests only, so "
                          "CloudFront's requests are refused")
