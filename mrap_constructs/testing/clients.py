"""boto3 clients on the emulator, acting in a given account (the lowest layer: no moto, no emulator state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

#: The header moto's server reads the account of a request from (when ``MOTO_ACCOUNT_ID`` is unset); see moto's
#: ``BaseResponse.get_current_account``. In-process clients use it; the CDK CLI uses per-account credentials instead
#: (``LocalAws.credentials``).
ACCOUNT_HEADER = "x-moto-account-id"


def emulator_client(endpoint_url: str, service: str, region: str, account: str | None = None) -> Any:
    """A boto3 client on the emulator at ``endpoint_url``, acting in ``account`` (default: moto's default account);
    s3control clients get the account host prefix stripped."""
    client = boto3.client(service, region_name=region, endpoint_url=endpoint_url,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    if account is not None:
        client.meta.events.register("before-sign", _with_account_header(account))
    if service == "s3control":
        from mrap_constructs.ops.client import strip_account_host_prefix

        client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    return client


def _with_account_header(account: str) -> Callable[..., None]:
    def add_header(request: Any, **_: Any) -> None:
        request.headers[ACCOUNT_HEADER] = account

    return add_header
