"""The Multi-Region Access Point: an L2 over ``AWS::S3::MultiRegionAccessPoint`` and its policy."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from aws_cdk import (
    Annotations,
    Aws,
    CfnDeletionPolicy,
    RemovalPolicy,
    Resource,
    Stack,
    Token,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_s3 as s3,
)
from constructs import Construct

from mrap_constructs import _perms
from mrap_constructs._validation import Problems, is_unresolved
from mrap_constructs.naming import account_problem, bucket_name_problem, mrap_name_problem, partition_of
from mrap_constructs.policy import MultiRegionAccessPointPolicy
from mrap_constructs.regions import MAX_REGIONS, SUPPORTED_REGIONS, is_opt_in, suggest_region

#: An MRAP alias as AWS generates it (``mfzwi23gnjvgw.mrap``).
MRAP_ALIAS_PATTERN = re.compile(r"[a-z0-9]+\.mrap")
#: An MRAP ARN: global (no Region), the alias after ``accesspoint/``.
MRAP_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:s3::(?P<account>\d{12}):accesspoint/(?P<alias>[a-z0-9]+\.mrap)")
#: DNS suffix of every MRAP hostname.
GLOBAL_ENDPOINT_SUFFIX = "accesspoint.s3-global.amazonaws.com"


@runtime_checkable
class IMultiRegionAccessPoint(Protocol):
    """What every Multi-Region Access Point offers, whether created here or imported."""

    @property
    def alias(self) -> str: ...

    @property
    def arn(self) -> str: ...

    @property
    def hostname(self) -> str: ...

    def object_arn(self, key_pattern: str = "*") -> str: ...

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult: ...


class MultiRegionAccessPointBase(Resource):
    """Implements ARNs, hostname and grants from ``alias`` and ``account`` only (owned or imported), like aws-s3's
    ``BucketBase``. A ``cdk.Resource``: ``env.account`` is the owner (an imported MRAP of another account says so),
    ``env.region`` the scope's stack Region (an MRAP itself is global)."""

    def __init__(self, scope: Construct, id: str, *, account: str | None = None) -> None:
        super().__init__(scope, id, account=account)
        self.account: str = account or Stack.of(self).account

    @property
    def alias(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def arn(self) -> str:
        """``arn:aws:s3::ACCOUNT:accesspoint/ALIAS`` — MRAP ARNs use the alias, never the name."""
        return f"arn:{partition_of(Stack.of(self))}:s3::{self.account}:accesspoint/{self.alias}"

    def object_arn(self, key_pattern: str = "*") -> str:
        """ARN of objects through the MRAP: ``.../accesspoint/ALIAS/object/KEY_PATTERN``.

        Args:
            key_pattern: object key or pattern. Default: ``"*"`` (every object).
        """
        return f"{self.arn}/object/{key_pattern}"

    @property
    def hostname(self) -> str:
        """The global endpoint, e.g. ``mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com``."""
        return f"{self.alias}.{GLOBAL_ENDPOINT_SUFFIX}"

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` list and read objects through the MRAP (identity policy, same account).

        A principal in another account also needs a statement in this MRAP's policy
        (``add_to_resource_policy``) and a bucket policy that delegates to this account.
        """
        return self._grant(grantee, _perms.OBJECT_READ_ACTIONS + _perms.LIST_ACTIONS)

    def grant_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` write and delete objects through the MRAP (identity policy, same account)."""
        return self._grant(grantee, _perms.OBJECT_WRITE_ACTIONS)

    def grant_read_write(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` read, list, write and delete objects through the MRAP."""
        return self._grant(grantee, _perms.OBJECT_READ_ACTIONS + _perms.LIST_ACTIONS + _perms.OBJECT_WRITE_ACTIONS)

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult:
        """Imported MRAPs have no policy managed here: the statement is not added."""
        return iam.AddToResourcePolicyResult(statement_added=False)

    def _grant(self, grantee: iam.IGrantable, actions: Sequence[str]) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.arn, self.object_arn("*")],
        )


class _ImportedMultiRegionAccessPoint(MultiRegionAccessPointBase):
    def __init__(self, scope: Construct, id: str, *, alias: str, account: str | None, name: str | None,
                 regions: Sequence[str]) -> None:
        super().__init__(scope, id, account=account)
        self._alias = alias
        self.name: str | None = name
        self.regions: list[str] = list(regions)

    @property
    def alias(self) -> str:
        return self._alias


class MultiRegionAccessPoint(MultiRegionAccessPointBase):
    """An S3 Multi-Region Access Point over one bucket in each of 1-17 Regions.

    Default settings: all four public-access blocks on, ``RETAIN`` on delete (the alias is generated by AWS
    and can never be recreated; clients would break), Regions sorted so reordering the input is not a change.
    Name, Regions and public-access settings cannot be updated: changing any of them replaces the MRAP,
    which gives it a new alias and ARN.

    Args:
        scope: parent construct. Its stack may be in any Region; the MRAP itself is global.
        id: construct id.
        name: the MRAP name, 3-50 characters (``^[a-z0-9][-a-z0-9]{1,48}[a-z0-9]$``), unique in the account.
        buckets: one bucket per Region, ``{region: bucket}``; a bucket is an ``s3.IBucket`` or a bucket name.
            Pass names for buckets in other stacks/Regions to avoid cross-Region references.
        bucket_accounts: ``{region: account}`` for buckets owned by another account. Default: all buckets are
            owned by the MRAP's account.
        block_public_access: public-access settings of the MRAP. Default: ``BlockPublicAccess.BLOCK_ALL``.
        removal_policy: what happens to the MRAP on stack delete. Default: ``RemovalPolicy.RETAIN``. On
            replacement (a new name) the old MRAP is always retained, so its clients keep working until they move.

    Attributes:
        name, alias, arn, hostname, regions, resource (the L1), policy (the ``MultiRegionAccessPointPolicy`` once a
        statement exists).

    Raises:
        ValueError: listing every invalid input (name, Region count/names, bucket names, accounts).

    Example:
        mrap = MultiRegionAccessPoint(stack, "Mrap", name="media",
                                      buckets={"us-east-1": "media-us-east-1", "eu-west-1": "media-eu-west-1"})
        mrap.grant_read(my_role)
        CfnOutput(stack, "Hostname", value=mrap.hostname)
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        buckets: Mapping[str, s3.IBucket | str],
        bucket_accounts: Mapping[str, str] | None = None,
        block_public_access: s3.BlockPublicAccess = s3.BlockPublicAccess.BLOCK_ALL,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        bucket_accounts = dict(bucket_accounts or {})
        self._validate(id, name, buckets, bucket_accounts)

        self.name: str = name
        self.regions: list[str] = sorted(buckets)
        self.bucket_names: dict[str, str] = {r: _bucket_name(buckets[r]) for r in self.regions}
        self.bucket_accounts: dict[str, str] = bucket_accounts
        #: The public-access settings, as CloudFormation's PublicAccessBlockConfiguration keys.
        self.public_access_block: dict[str, bool] = {
            "BlockPublicAcls": bool(block_public_access.block_public_acls),
            "BlockPublicPolicy": bool(block_public_access.block_public_policy),
            "IgnorePublicAcls": bool(block_public_access.ignore_public_acls),
            "RestrictPublicBuckets": bool(block_public_access.restrict_public_buckets),
        }
        self.resource = s3.CfnMultiRegionAccessPoint(
            self,
            "Resource",
            name=name,
            regions=[
                s3.CfnMultiRegionAccessPoint.RegionProperty(
                    bucket=self.bucket_names[region],
                    bucket_account_id=bucket_accounts.get(region),
                )
                for region in self.regions
            ],
            public_access_block_configuration=s3.CfnMultiRegionAccessPoint.PublicAccessBlockConfigurationProperty(
                block_public_acls=self.public_access_block["BlockPublicAcls"],
                block_public_policy=self.public_access_block["BlockPublicPolicy"],
                ignore_public_acls=self.public_access_block["IgnorePublicAcls"],
                restrict_public_buckets=self.public_access_block["RestrictPublicBuckets"],
            ),
        )
        self.resource.apply_removal_policy(removal_policy)
        # Replaced (a new name: the blue/green path), the old MRAP stays whatever removal_policy says: its clients
        # keep working until they move to the new alias and the old MRAP is deleted by hand
        # (``aws s3control delete-multi-region-access-point``).
        self.resource.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN
        self.policy: MultiRegionAccessPointPolicy | None = None

    @classmethod
    def from_alias(
        cls,
        scope: Construct,
        id: str,
        *,
        alias: str,
        account: str | None = None,
        name: str | None = None,
        regions: Sequence[str] = (),
    ) -> IMultiRegionAccessPoint:
        """Import an existing MRAP by its alias (e.g. ``mfzwi23gnjvgw.mrap``).

        Args:
            alias: the MRAP alias, as shown by ``aws s3control get-multi-region-access-point``.
            account: owner account. Default: the scope's stack account.
            name: the MRAP name, if known. Default: None.
            regions: the MRAP's Regions, if known. Default: empty.
        """
        problems = Problems("MultiRegionAccessPoint.from_alias", id)
        if not is_unresolved(alias) and not (isinstance(alias, str) and MRAP_ALIAS_PATTERN.fullmatch(alias)):
            hint = " (that is an ARN: use from_arn)" if isinstance(alias, str) and alias.startswith("arn:") else \
                " (not its name)" if isinstance(alias, str) and not alias.endswith(".mrap") else ""
            problems.add("alias", alias, f"must be the MRAP alias, lowercase letters and digits then '.mrap', e.g. "
                         f"'mfzwi23gnjvgw.mrap'{hint}")
        if account is not None and (why := account_problem(account)):
            problems.add("account", account, why)
        problems.raise_if_any()
        return _ImportedMultiRegionAccessPoint(scope, id, alias=alias, account=account, name=name, regions=regions)

    @classmethod
    def from_arn(cls, scope: Construct, id: str, *, arn: str, name: str | None = None,
                 regions: Sequence[str] = ()) -> IMultiRegionAccessPoint:
        """Import an existing MRAP by its ARN, ``arn:aws:s3::ACCOUNT:accesspoint/ALIAS``.

        Raises:
            ValueError: ``arn`` is not an MRAP ARN (a bucket or Regional access point ARN, a name, an object ARN).
        """
        problems = Problems("MultiRegionAccessPoint.from_arn", id)
        match = MRAP_ARN_PATTERN.fullmatch(arn) if isinstance(arn, str) else None
        if not is_unresolved(arn) and match is None:
            problems.add("arn", arn, "must be an MRAP ARN, arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap (no Region)")
        problems.raise_if_any()
        if match is None:  # a token: split at deploy time
            from aws_cdk import Fn

            return cls.from_alias(scope, id, alias=Fn.select(1, Fn.split("/", arn)),
                                  account=Fn.select(4, Fn.split(":", arn)), name=name, regions=regions)
        return cls.from_alias(scope, id, alias=match.group("alias"), account=match.group("account"), name=name,
                              regions=regions)

    @classmethod
    def from_name(cls, scope: Construct, id: str, *, name: str,
                  refresh_key: str | None = None) -> IMultiRegionAccessPoint:
        """Import an existing MRAP of the scope's account by name; its alias is read at deploy time.

        A custom resource calls ``GetMultiRegionAccessPoint`` (us-west-2), so stacks in any Region can name the exact
        ARN without a cross-Region reference. The MRAP must exist when the stack deploys.

        Args:
            name: the MRAP name.
            refresh_key: a value that changes whenever the MRAP may have been replaced (a replacement gives it a new
                alias), e.g. ``replacement_fingerprint(mrap.create_only_properties())``: the alias is read again
                whenever it changes. Default: None — the alias is read when the stack is created (and when ``name``
                changes) only.
        """
        from aws_cdk import custom_resources as cr

        from mrap_constructs._nag import acknowledge
        from mrap_constructs._sdk_call import sdk_call_resource
        from mrap_constructs.regions import CONTROL_PLANE_REGION

        problems = Problems("MultiRegionAccessPoint.from_name", id)
        if not is_unresolved(name) and (why := mrap_name_problem(name)):
            problems.add("name", name, why)
        problems.raise_if_any()
        account = Stack.of(scope).account
        every_mrap = f"arn:{partition_of(Stack.of(scope))}:s3::{account}:accesspoint/*"
        lookup = sdk_call_resource(
            scope, f"{id}AliasLookup", resource_type="Custom::MrapAliasLookup",
            on_update=cr.AwsSdkCall(
                service="S3Control", action="GetMultiRegionAccessPoint", region=CONTROL_PLANE_REGION,
                parameters={"AccountId": account, "Name": name},
                physical_resource_id=cr.PhysicalResourceId.of(
                    f"{name}-alias" + (f"-{refresh_key}" if refresh_key else "")),
                output_paths=["AccessPoint.Alias"]),
            on_delete=None,
            statements=[iam.PolicyStatement(actions=["s3:GetMultiRegionAccessPoint"],
                                            resources=[every_mrap])],
        )
        from mrap_constructs._nag import nag_rendering

        acknowledge(Stack.of(scope).node.find_child("SdkCallProvider").node.find_child("Policy"),
                    f"AwsSolutions-IAM5[Resource::{nag_rendering(every_mrap)}]",
                    "Reads the alias of the MRAP by name; the alias is what makes the exact ARN.")
        return cls.from_alias(scope, id, alias=lookup.get_response_field("AccessPoint.Alias"), name=name)

    @property
    def alias(self) -> str:
        """The alias AWS generates at creation (CloudFormation attribute ``Alias``)."""
        return self.resource.attr_alias

    def create_only_properties(self, account_placeholder: str = "{account}") -> dict:
        """What CloudFormation cannot update in place: a change to any of it replaces the MRAP (new alias).

        Args:
            account_placeholder: replaces the deploying account in bucket names (concrete or ``AWS::AccountId``),
                so the same MRAP compares equal whether or not credentials were present at synth.
        """
        account = Stack.of(self).account

        def neutral(bucket: str) -> str:
            bucket = bucket.replace(Aws.ACCOUNT_ID, account_placeholder)
            return bucket if Token.is_unresolved(account) else bucket.replace(account, account_placeholder)

        return {
            "Name": self.name,
            "Regions": {r: {"Bucket": neutral(self.bucket_names[r]), **(
                {"BucketAccountId": self.bucket_accounts[r]} if r in self.bucket_accounts else {})}
                for r in self.regions},
            "PublicAccessBlockConfiguration": dict(self.public_access_block),
        }

    @property
    def replacement_fingerprint(self) -> str:
        """A short hash of ``create_only_properties()``: it changes exactly when a deploy replaces the MRAP (new
        alias). Give it as ``refresh_key`` to lookups of this MRAP in other stacks."""
        return fingerprint(self.create_only_properties())

    @property
    def policy_status_is_public(self) -> str | None:
        """``PolicyStatus.IsPublic`` of the MRAP policy (a token), or None before any statement is added."""
        return self.policy.resource.attr_policy_status_is_public if self.policy else None

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult:
        """Add a statement to the MRAP policy (``AWS::S3::MultiRegionAccessPointPolicy``), creating it once.

        Resources in the statement should use ``arn`` / ``object_arn()`` (the alias form).
        """
        if self.policy is None:
            # Ref of the MRAP is its name: the reference also orders the policy after the MRAP.
            self.policy = MultiRegionAccessPointPolicy(self, "Policy", mrap_name=self.resource.ref)
        self.policy.add_statements(statement)
        return iam.AddToResourcePolicyResult(statement_added=True, policy_dependable=self.policy.resource)

    # --- policy helpers (the AWS documentation's examples, as methods) ---------------------------------------------

    def allow_principals(self, principals: Sequence[iam.IPrincipal], *, actions: Sequence[str] | None = None,
                         key_pattern: str = "*") -> iam.AddToResourcePolicyResult:
        """Allow ``principals`` to use the MRAP for ``actions`` on objects matching ``key_pattern``.

        Args:
            principals: e.g. ``[iam.AccountPrincipal("111122223333")]`` or role ARNs of another account.
            actions: Default: read, list, write and delete object actions.
            key_pattern: Default: ``"*"``.
        """
        return self.add_to_resource_policy(iam.PolicyStatement(
            principals=list(principals),
            actions=list(actions or _perms.DELEGATED_BUCKET_ACTIONS),
            resources=[self.arn, self.object_arn(key_pattern)],
        ))

    def restrict_to_vpc_endpoints(self, endpoint_ids: Sequence[str]) -> iam.AddToResourcePolicyResult:
        """Deny data access (object and list actions, ``_perms.DATA_ACCESS_ACTION_PATTERNS``) that does not come
        through one of ``endpoint_ids`` (``aws:SourceVpce``). Control-plane actions are not denied, so the owner can
        still replace the policy or change routes from outside the VPC."""
        problems = Problems("MultiRegionAccessPoint.restrict_to_vpc_endpoints", self.node.id)
        if not endpoint_ids:
            problems.add("endpoint_ids", list(endpoint_ids), "give at least one VPC endpoint id")
        problems.raise_if_any()
        return self.add_to_resource_policy(data_access_deny(
            "OnlyThroughVpcEndpoints", self, {"StringNotEquals": {"aws:SourceVpce": list(endpoint_ids)}}))

    def deny_insecure_transport(self) -> iam.AddToResourcePolicyResult:
        """Deny data access without TLS (``aws:SecureTransport`` false)."""
        return self.add_to_resource_policy(data_access_deny(
            "DenyInsecureTransport", self, {"Bool": {"aws:SecureTransport": "false"}}))

    def _validate(self, id: str, name: str, buckets: Mapping[str, s3.IBucket | str],
                  bucket_accounts: Mapping[str, str]) -> None:
        problems = Problems("MultiRegionAccessPoint", id)
        if not is_unresolved(name) and (why := mrap_name_problem(name)):
            problems.add("name", name, why)
        if not buckets:
            problems.add("buckets", dict(buckets), "give one bucket in at least 1 Region")
        if len(buckets) > MAX_REGIONS:
            problems.add("buckets", sorted(buckets), f"an MRAP holds at most {MAX_REGIONS} Regions, got {len(buckets)}")
        seen: dict[str, str] = {}
        for region, bucket in buckets.items():
            if region not in SUPPORTED_REGIONS:
                problems.add(f"buckets[{region!r}]", region,
                             f"not a Region that supports MRAPs{suggest_region(region)}")
            elif is_opt_in(region):
                Annotations.of(self).add_warning_v2(
                    "mrap:OptInRegion",
                    f"{region} is an opt-in Region: enable it in the account before deploying",
                )
            bucket_region = _bucket_region(bucket)
            if bucket_region and not Token.is_unresolved(bucket_region) and bucket_region != region:
                problems.add(f"buckets[{region!r}]", _describe(bucket),
                             f"that bucket is in {bucket_region}; list it under that Region")
            bucket_name = _bucket_name(bucket)
            if not is_unresolved(bucket_name):
                if why := bucket_name_problem(bucket_name):
                    problems.add(f"buckets[{region!r}]", bucket_name, why)
                if bucket_name in seen:
                    problems.add(f"buckets[{region!r}]", bucket_name,
                                 f"already used for {seen[bucket_name]}; one distinct bucket per Region")
                seen[bucket_name] = region
        for region, account in bucket_accounts.items():
            if region not in buckets:
                problems.add(f"bucket_accounts[{region!r}]", account, "names a Region with no bucket in `buckets`")
            if why := account_problem(account):
                problems.add(f"bucket_accounts[{region!r}]", account, why)
        problems.raise_if_any()


def fingerprint(value: object) -> str:
    """A 12-character hash of ``value`` (JSON, keys sorted): stable across synths, for ``refresh_key`` values."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def data_access_deny(sid: str, access_point: IMultiRegionAccessPoint, conditions: dict) -> iam.PolicyStatement:
    """A Deny of data access through ``access_point`` (never ``s3:*``: see ``_perms.DATA_ACCESS_ACTION_PATTERNS``)
    for anyone, when ``conditions`` hold."""
    return iam.PolicyStatement(
        sid=sid, effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
        actions=list(_perms.DATA_ACCESS_ACTION_PATTERNS),
        resources=[access_point.arn, access_point.object_arn("*")], conditions=conditions,
    )


def _bucket_name(bucket: s3.IBucket | str) -> str:
    return bucket if isinstance(bucket, str) else bucket.bucket_name


def _bucket_region(bucket: s3.IBucket | str) -> str | None:
    return None if isinstance(bucket, str) else bucket.env.region


def _describe(bucket: s3.IBucket | str) -> str:
    return bucket if isinstance(bucket, str) else bucket.node.path
