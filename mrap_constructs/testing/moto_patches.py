"""Small corrections to moto (pinned 5.2.5), each documented with the moto behaviour it corrects.

Apply with ``apply()`` (idempotent) before creating boto3 clients against ``mock_aws`` or a moto server.
Each patch has a test in ``tests/ops/test_moto_patches.py`` that fails when a moto upgrade changes the behaviour,
so the patch can be dropped or adjusted.
"""

from __future__ import annotations

from typing import Any

_APPLIED: set[str] = set()
#: The moto functions before patching, for the tests that watch moto's own behaviour.
ORIGINALS: dict[str, Any] = {}


def apply() -> None:
    """Apply every patch once."""
    _mrap_bucket_regions()


def _mrap_bucket_regions() -> None:
    """moto 5.2.5 reports every MRAP bucket's Region as us-east-1: ``create_multi_region_access_point`` searches
    the per-Region S3 backends but skips the ``aws`` partition key where moto actually keeps buckets. Real S3 reports
    each bucket's own Region; the patch reads it from the bucket."""
    if "mrap_bucket_regions" in _APPLIED:
        return
    from moto.s3.models import s3_backends
    from moto.s3control.models import S3ControlBackend

    original = S3ControlBackend.create_multi_region_access_point
    ORIGINALS["create_multi_region_access_point"] = original

    def create_multi_region_access_point(self: Any, account_id: str, name: str, public_access_block: Any,
                                         regions: list[dict[str, str]], region_name: str) -> Any:
        operation = original(self, account_id, name, public_access_block, regions, region_name)
        for item in self.multi_region_access_points[account_id][name].regions:
            bucket = _find_bucket(s3_backends, item["Bucket"])
            if bucket is not None:
                item["Region"] = bucket.region_name
        return operation

    S3ControlBackend.create_multi_region_access_point = create_multi_region_access_point
    _APPLIED.add("mrap_bucket_regions")


def _find_bucket(backends: Any, name: str) -> Any:
    for account_backends in backends.values():
        for backend in account_backends.values():
            if name in backend.buckets:
                return backend.buckets[name]
    return None
