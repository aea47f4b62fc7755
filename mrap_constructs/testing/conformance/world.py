"""What the cases run against: two versioned buckets with two-way replication rules, delegating to one MRAP with a
policy, created with plain boto3 calls (S3, S3 Control, IAM, STS) and deleted afterwards.

Every name starts with one prefix (``mrapconf-XXXXXX``, random), so a run on a real account touches only what it
made. Key prefixes decide what a case sees:

| prefix | replication rule (both directions) |
| --- | --- |
| ``replicated/`` | ``rep``: delete markers replicated, metrics on, replica modifications off |
| ``nodm/`` | ``nodm``: delete markers not replicated |
| ``sync/`` | ``sync``: replica modifications replicated back |
| ``failing/`` | ``fail``: the role may not write it (``s3:ReplicateObject`` allowed only on the prefixes above) |
| anything else (``local/``, ``undelegated/``, ...) | none: the object stays in the bucket it was written to |

Bucket policies delegate to the MRAP (``Principal: *`` with ``s3:DataAccessPointAccount``) on every key but
``undelegated/``, and deny ``s3:GetObject`` on ``bucket-denied/``; the MRAP policy allows the account, denies
``s3:GetObject`` on ``mrap-denied/`` and (when the target has a second account) lets that account read.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from mrap_constructs.testing.conformance.targets import CONTROL_REGION, Target

REPLICATED_PREFIXES = ("replicated/", "nodm/", "sync/")
RULES = (  # (id, prefix, priority, delete markers, replica modifications, metrics)
    ("rep", "replicated/", 4, True, False, True),
    ("nodm", "nodm/", 3, False, False, False),
    ("sync", "sync/", 2, False, True, False),
    ("fail", "failing/", 1, False, False, True),
)
PRE_EXISTING_KEY = "replicated/pre-existing"
WHERE_KEY = "local/where"


def new_prefix() -> str:
    return "mrc-" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))


@dataclass
class World:
    """The buckets, rules, roles and MRAP of one run (``create``), and what ``delete`` removes."""

    target: Target
    prefix: str = field(default_factory=new_prefix)
    account: str = ""
    buckets: dict[str, str] = field(default_factory=dict)
    alias: str = ""
    request_token: str = ""
    role_arns: dict[str, str] = field(default_factory=dict)
    created: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, name, region) in creation order
    policy: dict[str, Any] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # setup stage -> what went wrong

    @property
    def name(self) -> str:
        return self.prefix

    @property
    def arn(self) -> str:
        return f"arn:aws:s3::{self.account}:accesspoint/{self.alias}"

    @property
    def host(self) -> str:
        return f"{self.alias}.accesspoint.s3-global.amazonaws.com"

    @property
    def regions(self) -> list[str]:
        return list(self.buckets)

    def control(self, region: str = CONTROL_REGION, **kwargs: Any) -> Any:
        return self.target.client("s3control", region, **kwargs)

    def s3(self, region: str) -> Any:
        return self.target.client("s3", region)

    def plan(self) -> list[str]:
        """What ``create`` will make, one line each (printed before a run on a real account)."""
        regions = list(self.target.regions[:2])
        return ([f"S3 bucket {self.prefix}-{r} in {r} (versioned; a few objects of a few bytes)" for r in regions]
                + [f"IAM role {self.prefix}-replication (S3 replication)",
                   f"IAM roles {self.prefix}-reader and {self.prefix}-nobody (assumed by the permission cases)",
                   f"S3 Multi-Region Access Point {self.prefix} over those buckets, with a policy",
                   f"a third bucket {self.prefix}-extra-{regions[0]} for a rejected create (deleted at the end)"])

    # -- create ------------------------------------------------------------------------------------------------
    def create(self) -> None:
        """Make everything, stage by stage; a stage that fails is recorded in ``failed`` (its cases then report
        "setup failed") and the stages that do not depend on it still run."""
        self.account = self.target.account
        self._stage("buckets", self._buckets)
        if "buckets" in self.failed:
            return
        self._stage("replication", self._replication)
        self._stage("bucket policies", lambda: [
            self.s3(region).put_bucket_policy(Bucket=bucket, Policy=json.dumps(self.bucket_policy(bucket)))
            for region, bucket in self.buckets.items()])
        self._stage("roles", self._reader_roles)
        self._stage("mrap", self._create_mrap)
        if "mrap" not in self.failed:
            self.policy = self.mrap_policy()
            self._stage("mrap policy", lambda: self.put_mrap_policy(self.policy))

    def _stage(self, name: str, step: Any) -> None:
        try:
            step()
        except Exception as err:  # recorded: the cases that need this stage report it
            self.failed[name] = f"{type(err).__name__}: {err}"

    def _buckets(self) -> None:
        for region in list(self.target.regions[:2]):
            bucket = f"{self.prefix}-{region}"
            s3 = self.s3(region)
            config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=bucket, **config)
            self.created.append(("bucket", bucket, region))
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            self.buckets[region] = bucket
            # Before any rule exists: never replicated (S3 replicates only objects written after the rule).
            s3.put_object(Bucket=bucket, Key=PRE_EXISTING_KEY, Body=region.encode())
            s3.put_object(Bucket=bucket, Key=WHERE_KEY, Body=region.encode())

    def _replication(self) -> None:
        role = self._replication_role()
        for region, bucket in self.buckets.items():
            self._replicate(region, bucket, role)

    def _role(self, name: str, trust: dict[str, Any], policy: dict[str, Any] | None) -> str:
        iam = self.target.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.created.append(("role", name, "us-east-1"))
        if policy is not None:
            iam.put_role_policy(RoleName=name, PolicyName="conformance", PolicyDocument=json.dumps(policy))
        self.role_arns[name] = arn
        return str(arn)

    def _replication_role(self) -> str:
        """The rules' role (S3 User Guide, "Setting up permissions for live replication"); it may write replicas
        only under the replicated prefixes, so ``failing/`` fails."""
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "s3.amazonaws.com"}}]}
        buckets = list(self.buckets.values())
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{b}" for b in buckets]},
            {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                           "s3:GetObjectVersionTagging"],
             "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets]},
            {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
             "Resource": [f"arn:aws:s3:::{b}/{p}*" for b in buckets for p in REPLICATED_PREFIXES]}]}
        arn = self._role(f"{self.prefix}-replication", trust, policy)
        time.sleep(0 if self.target.settle_seconds == 0 else 10)  # IAM is eventually consistent on AWS
        return arn

    def _replicate(self, region: str, bucket: str, role: str) -> None:
        rules = []
        for other_region, other in self.buckets.items():
            if other_region == region:
                continue
            for rule_id, prefix, priority, markers, modifications, metrics in RULES:
                destination: dict[str, Any] = {"Bucket": f"arn:aws:s3:::{other}"}
                if metrics:
                    destination["Metrics"] = {"Status": "Enabled"}
                rule: dict[str, Any] = {
                    "ID": rule_id, "Priority": priority, "Status": "Enabled", "Filter": {"Prefix": prefix},
                    "DeleteMarkerReplication": {"Status": "Enabled" if markers else "Disabled"},
                    "Destination": destination}
                if modifications:
                    rule["SourceSelectionCriteria"] = {"ReplicaModifications": {"Status": "Enabled"}}
                rules.append(rule)
        self.s3(region).put_bucket_replication(Bucket=bucket, ReplicationConfiguration={"Role": role,
                                                                                        "Rules": rules})

    def bucket_policy(self, bucket: str) -> dict[str, Any]:
        """Delegation to the MRAP (S3 User Guide, "Multi-Region Access Point permissions", and "Delegating access
        control to access points") on every key but ``undelegated/``; an explicit Deny on ``bucket-denied/``."""
        arn = f"arn:aws:s3:::{bucket}"
        return {"Version": "2012-10-17", "Statement": [
            {"Sid": "DelegateToMrap", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*",
             "Resource": [arn] + [f"{arn}/{p}*" for p in ("replicated/", "nodm/", "sync/", "failing/", "local/",
                                                          "xacct/", "bucket-denied/", "mrap-denied/", "ops/",
                                                          "routing/")],
             "Condition": {"StringEquals": {"s3:DataAccessPointAccount": self.account}}},
            {"Sid": "DenyOnePrefix", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"{arn}/bucket-denied/*"}]}

    def _reader_roles(self) -> None:
        """``reader``: may read anything (identity policy); ``nobody``: no permissions. Both in this account and,
        when the target has one, in the other account (created there with that account's keys)."""
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"}}]}
        read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject",
                                                                                       "s3:PutObject"],
                                                         "Resource": "*"}]}
        self._role(f"{self.prefix}-reader", trust, read)
        self._role(f"{self.prefix}-nobody", trust, None)

    def other_account_role(self, kind: str) -> dict[str, str] | None:
        """Keys of a role in the other account: ``reader`` (identity policy allows s3 reads) or ``nobody``; created
        on first use and deleted at the end. None when the target has no second account."""
        other = self.target.other_account
        if other is None:
            return None
        name = f"{self.prefix}-x{kind}"
        iam = self.target.client("iam", account=other)
        if ("xrole", name, other) not in self.created:
            trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                              "Principal": {"AWS": f"arn:aws:iam::{other}:root"}}]}
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
            self.created.append(("xrole", name, other))
            if kind == "reader":
                iam.put_role_policy(RoleName=name, PolicyName="conformance", PolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                            "Resource": "*"}]}))
        return self.assume(f"arn:aws:iam::{other}:role/{name}", account=other)

    def assume(self, role_arn: str, *, account: str | None = None) -> dict[str, str]:
        """Temporary keys of ``role_arn`` (retried: a new IAM role takes seconds to be assumable on AWS)."""
        sts = self.target.client("sts", "us-east-1", account=account)
        deadline = time.monotonic() + (60 if self.target.settle_seconds else 5)
        while True:
            try:
                issued = sts.assume_role(RoleArn=role_arn, RoleSessionName="conformance")["Credentials"]
                return {"AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
                        "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
                        "AWS_SESSION_TOKEN": issued["SessionToken"]}
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(3)

    def role_keys(self, kind: str) -> dict[str, str]:
        return self.assume(self.role_arns[f"{self.prefix}-{kind}"])

    def _create_mrap(self) -> None:
        control = self.control()
        token = control.create_multi_region_access_point(
            AccountId=self.account, ClientToken=self.prefix,
            Details={"Name": self.prefix, "Regions": [{"Bucket": b} for b in self.buckets.values()]})
        self.request_token = token["RequestTokenARN"]
        self.created.append(("mrap", self.prefix, CONTROL_REGION))
        self.wait_operation(self.request_token, timeout=3600)
        self.alias = control.get_multi_region_access_point(AccountId=self.account,
                                                           Name=self.prefix)["AccessPoint"]["Alias"]

    def wait_operation(self, token: str, timeout: float) -> dict[str, Any]:
        """Poll ``DescribeMultiRegionAccessPointOperation`` until the async operation ends; its description.
        Raises ``RuntimeError`` when it failed, ``TimeoutError`` when it does not end in time."""
        control = self.control()
        deadline = time.monotonic() + timeout
        while True:
            operation = control.describe_multi_region_access_point_operation(
                AccountId=self.account, RequestTokenARN=token)["AsyncOperation"]
            status = operation.get("RequestStatus")
            if status == "SUCCEEDED":
                return dict(operation)
            if status == "FAILED":
                raise RuntimeError(f"{operation.get('Operation')} failed: {operation.get('ResponseDetails')}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{operation.get('Operation')} still {status} after {timeout:.0f} s")
            time.sleep(min(30.0, max(0.05, self.target.settle_seconds / 4)))

    def mrap_policy(self, *, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        resource = self.arn
        statements: list[dict[str, Any]] = [
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
             "Action": "s3:*", "Resource": [resource, f"{resource}/object/*"]},
            {"Sid": "DenyOnePrefix", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
             "Resource": f"{resource}/object/mrap-denied/*"}]
        if self.target.other_account:
            statements.append({"Sid": "OtherAccountReads", "Effect": "Allow",
                               "Principal": {"AWS": f"arn:aws:iam::{self.target.other_account}:root"},
                               "Action": "s3:GetObject", "Resource": f"{resource}/object/*"})
        return {"Version": "2012-10-17", "Statement": statements + (extra or [])}

    def put_mrap_policy(self, policy: dict[str, Any]) -> None:
        token = self.control().put_multi_region_access_point_policy(
            AccountId=self.account, ClientToken=secrets.token_hex(8),
            Details={"Name": self.prefix, "Policy": json.dumps(policy)})["RequestTokenARN"]
        self.wait_operation(token, timeout=600)

    # -- helpers for cases -------------------------------------------------------------------------------------
    def set_dials(self, active: set[str]) -> None:
        """Only ``active`` Regions receive traffic (routes API, in ``us-west-2``)."""
        self.control().submit_multi_region_access_point_routes(AccountId=self.account, Mrap=self.arn, RouteUpdates=[
            {"Bucket": bucket, "Region": region, "TrafficDialPercentage": 100 if region in active else 0}
            for region, bucket in self.buckets.items()])

    def served_by(self) -> str:
        """The Region that serves a GET through the MRAP now: each bucket holds its own Region under
        ``local/where`` (never replicated)."""
        body = self.target.mrap_s3().get_object(Bucket=self.arn, Key=WHERE_KEY)["Body"].read()
        return body.decode()

    def route_to(self, active: set[str]) -> str:
        """Set the dials and wait (up to the target's ``route_timeout``) until a GET is served from an active
        Region; that Region."""
        self.set_dials(active)
        deadline = time.monotonic() + self.target.route_timeout
        while True:
            served = self.served_by()
            if served in active:
                return served
            if time.monotonic() > deadline:
                raise TimeoutError(f"still served by {served} {self.target.route_timeout:.0f} s after the dials "
                                   f"made only {sorted(active)} active")
            time.sleep(min(10.0, self.target.route_timeout / 20))

    def wait_for(self, check: Any, timeout: float, what: str) -> Any:
        """Poll ``check()`` (None or False: not yet) until it answers; raise ``TimeoutError`` naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except Exception:  # e.g. NoSuchKey before the replica lands
                value = None
            if value not in (None, False):
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not after {timeout:.0f} s")
            time.sleep(0.05 if timeout <= 60 else 5)

    def versions(self, region: str, key: str) -> list[dict[str, Any]]:
        """Versions and delete markers of ``key`` in the bucket of ``region`` (newest first)."""
        answer = self.s3(region).list_object_versions(Bucket=self.buckets[region], Prefix=key)
        items = [dict(v, Marker=False) for v in answer.get("Versions", []) if v["Key"] == key]
        items += [dict(m, Marker=True) for m in answer.get("DeleteMarkers", []) if m["Key"] == key]
        return sorted(items, key=lambda v: v["LastModified"], reverse=True)

    # -- delete ------------------------------------------------------------------------------------------------
    def delete(self) -> list[str]:
        """Remove everything ``create`` (and the cases) made, newest first; the problems met (empty: all gone)."""
        problems: list[str] = []
        for kind, name, where in reversed(self.created):
            try:
                if kind == "mrap":
                    token = self.control().delete_multi_region_access_point(
                        AccountId=self.account, ClientToken=f"del-{secrets.token_hex(6)}",
                        Details={"Name": name})["RequestTokenARN"]
                    self.wait_operation(token, timeout=3600)
                elif kind == "bucket":
                    self._empty_and_delete(name, where)
                elif kind in ("role", "xrole"):
                    iam = self.target.client("iam", account=where if kind == "xrole" else None)
                    for policy in iam.list_role_policies(RoleName=name).get("PolicyNames", []):
                        iam.delete_role_policy(RoleName=name, PolicyName=policy)
                    iam.delete_role(RoleName=name)
            except Exception as err:  # keep going: delete what can be deleted, report the rest
                problems.append(f"{kind} {name}: {err}")
        return problems

    def _empty_and_delete(self, bucket: str, region: str) -> None:
        s3 = self.s3(region)
        try:
            s3.delete_bucket_replication(Bucket=bucket)
        except Exception:
            pass
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)
