"""`mrap smoke` against the local data plane: PUT/GET through the MRAP alias, replication timed to every bucket."""

from __future__ import annotations

import io
import json
import os

import pytest

from mrap_constructs.ops import cli

pytestmark = pytest.mark.e2e

THREE = ["us-east-1", "eu-west-1", "ap-southeast-2"]


@pytest.mark.mrap(regions=THREE, client_region="eu-west-1")
def test_smoke_runs_through_the_data_plane_from_its_export_lines(mrap, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in mrap.env.items():  # what `make deploy-local KEEP=1` prints, and nothing else
        if name.startswith(("AWS_", "MRAP_")) or name in ("HTTPS_PROXY", "HTTP_PROXY"):
            monkeypatch.setenv(name, value)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["--json", "smoke", mrap.point.name, "--timeout", "20"], out=out, err=err)
    assert code == 0, err.getvalue()
    result = json.loads(out.getvalue())
    assert result["read_back"] and result["cleaned_up"] and result["ok"]
    assert set(result["lag_seconds"]) == set(THREE)
    assert all(0 <= lag < 10 for lag in result["lag_seconds"].values())
    served = [(r.method, r.region) for r in mrap.dataplane.plane.log]
    assert served == [("PUT", "eu-west-1"), ("GET", "eu-west-1")]
    for region, bucket in mrap.buckets.items():
        assert not mrap.bucket_client(region).list_object_versions(Bucket=bucket).get("Versions")
