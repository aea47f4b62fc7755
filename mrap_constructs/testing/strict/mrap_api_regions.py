"""S3 Control: the Regions that serve the Multi-Region Access Point APIs.

AWS serves the MRAP control plane (create, delete, describe the async operation, get, list, the policy and its
status) only in US West (Oregon), and the routes API (``Get``/``SubmitMultiRegionAccessPointRoutes``) only in the
five Regions of the failover control infrastructure (``regions.ROUTES_API_REGIONS``). A request sent to any other
Region is refused with ``301 PermanentRedirect``.

AWS sources:
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRestrictions.html and botocore
  ``botocore/data/s3control/2018-08-20/service-2.json``, operations CreateMultiRegionAccessPoint,
  DeleteMultiRegionAccessPoint, GetMultiRegionAccessPoint, GetMultiRegionAccessPointPolicy,
  GetMultiRegionAccessPointPolicyStatus, ListMultiRegionAccessPoints, PutMultiRegionAccessPointPolicy: "This action
  will always be routed to the US West (Oregon) Region". DescribeMultiRegionAccessPointOperation reads the token of
  those asynchronous requests, which exist only there (MrapOperations.html lists it with the control plane).
- https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_SubmitMultiRegionAccessPointRoutes.html and
  ``API_control_GetMultiRegionAccessPointRoutes.html``: "use the Amazon S3 failover control infrastructure
  endpoints in these five AWS Regions: us-east-1, us-west-2, ap-southeast-2, ap-northeast-1, eu-west-1".
- The answer elsewhere, as observed from AWS (no AWS page documents the status code): ``301 PermanentRedirect``
  "This API operation is only available in the following Regions: us-west-2. Make sure to send all future requests to
  a supported Region." for ListMultiRegionAccessPoints outside us-west-2
  (https://github.com/gruntwork-io/cloud-nuke/issues/667) and ``PermanentRedirect`` for CreateMultiRegionAccessPoint
  (https://github.com/boto/boto3/issues/3361). The routes API outside its five Regions is given the same answer
  naming its Regions (not observed; the conformance case accepts any 3xx/4xx refusal).

moto 5.2.5 serves every S3 Control operation in every Region. This rule is checked in moto's HTTP layer
(``S3ControlResponse.call_action``), not the backend: the Region a request is sent to exists only there (the
backends' ``region_name`` of a CloudFormation deploy is the stack's Region, and CloudFormation's
``AWS::S3::MultiRegionAccessPoint`` works from any Region).
"""

from __future__ import annotations

import warnings
from typing import Any

from mrap_constructs.regions import CONTROL_PLANE_REGION, ROUTES_API_REGIONS

#: Operation -> the Regions that serve it.
SERVED_IN: dict[str, tuple[str, ...]] = {
    **{operation: (CONTROL_PLANE_REGION,) for operation in (
        "CreateMultiRegionAccessPoint", "DeleteMultiRegionAccessPoint", "DescribeMultiRegionAccessPointOperation",
        "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy", "GetMultiRegionAccessPointPolicyStatus",
        "ListMultiRegionAccessPoints", "PutMultiRegionAccessPointPolicy")},
    "GetMultiRegionAccessPointRoutes": ROUTES_API_REGIONS,
    "SubmitMultiRegionAccessPointRoutes": ROUTES_API_REGIONS,
}

#: AWS's status for a request sent to a Region that does not serve the operation.
STATUS = 301


def refusal(operation: str, region: str) -> str | None:
    """AWS's message refusing ``operation`` sent to ``region``, or None when ``region`` serves it."""
    served = SERVED_IN.get(operation)
    if served is None or region in served:
        return None
    return (f"This API operation is only available in the following Regions: {', '.join(served)}. Make sure to send "
            f"all future requests to a supported Region.")


def install(originals: dict[str, Any]) -> None:
    """Wrap ``S3ControlResponse.call_action``; the function wrapped is kept in
    ``originals["strict_s3control_call_action"]``."""
    from moto.core.responses import ActionResult
    from moto.s3control.exceptions import S3ControlError
    from moto.s3control.responses import S3ControlResponse

    original = S3ControlResponse.call_action
    originals["strict_s3control_call_action"] = original

    def call_action(self: Any) -> Any:
        message = refusal(self._get_action(), self.region)
        if message is None:
            return original(self)
        with warnings.catch_warnings():  # moto warns that s3control's model has no PermanentRedirect shape
            warnings.simplefilter("ignore", UserWarning)
            _, headers, body = self.serialized(ActionResult(S3ControlError("PermanentRedirect", message)))
        headers, body = self._enrich_response(headers, body)
        return STATUS, headers, body

    S3ControlResponse.call_action = call_action
