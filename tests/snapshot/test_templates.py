"""Snapshot of every stack template of the default config (update with `pytest --snapshot-update`).

Targeted assertions live in tests/unit so that a careless snapshot update cannot hide a regression.
"""

from __future__ import annotations

import re

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import DEFAULT_CONFIG

_ASSET_KEY = re.compile(r"^[0-9a-f]{64}\.(zip|json)$")


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


def normalize(template: dict) -> dict:
    """Drop what churns with the CDK version (CDKMetadata) and asset hashes; keep everything else."""

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k != "CDKMetadata"}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str) and _ASSET_KEY.match(value):
            return "ASSET_HASH." + value.rsplit(".", 1)[1]
        return value

    normalized = walk(template)
    normalized.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    if not normalized.get("Conditions"):
        normalized.pop("Conditions", None)
    return normalized


@pytest.mark.parametrize("suffix", [
    *(f"bucket-{r}" for r in DEFAULT_CONFIG["regions"]),
    *(f"replication-{r}" for r in DEFAULT_CONFIG["regions"]),
    "access-point",
])
def test_default_app_template(default_app, snapshot_json, suffix):
    assert normalize(default_app.template_json(f"{DEFAULT_CONFIG['name']}-{suffix}")) == snapshot_json


def test_normalize_hides_only_hashes_and_metadata():
    template = {"Resources": {"CDKMetadata": {}, "F": {"Properties": {"Code": {"S3Key": "a" * 64 + ".zip"}}}}}
    assert normalize(template) == {"Resources": {"F": {"Properties": {"Code": {"S3Key": "ASSET_HASH.zip"}}}}}
