"""The in-sync check before a failover must be able to read every bucket account's replication state.

``Custom::MrapRoutes`` with ``RequireInSync`` reads the replication rules (``GetBucketReplication``) and metrics of
every source bucket before it activates a Region. A bucket of another account answers another account's principal
only when its bucket policy grants it (S3 User Guide, "Bucket owner granting cross-account bucket permissions"), and
S3 publishes its replication metrics in its owner's CloudWatch: without a role to read through in that account, the
check cannot see it. (The handler treats what it cannot read as unknown, never in sync, so the deploy fails.)
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, as_list, flat

NAME = "InSyncCheckCannotReadAccount"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html"
FIX = ("create a read-only role in each bucket account trusted by the MRAP account (RegionalBucketStack "
       "state_reader_role_name) and pass it as the routes resource's ReaderRoles (MultiRegionAccessPointRoutes "
       "reader_roles); or set failover.require_in_sync: false")


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        accounts = {flat(region.get("BucketAccountId")) for _, props in stack.resources(
            "AWS::S3::MultiRegionAccessPoint") for region in as_list(props.get("Regions"))
            if region.get("BucketAccountId")}
        others = {a for a in accounts if a and a != stack.account}
        if not others:
            continue
        for logical_id, props in stack.resources("Custom::MrapRoutes"):
            if str(props.get("RequireInSync", "true")) == "false":
                continue
            readers = {flat(arn).split(":")[4] for arn in (props.get("ReaderRoles") or {}).values()
                       if flat(arn).count(":") >= 5}
            for account in sorted(others - readers):
                yield Finding(NAME, stack.name, logical_id, "Properties.ReaderRoles",
                              f"the in-sync check reads the buckets of account {account} with no role there: "
                              "GetBucketReplication is denied and its replication metrics are in that account")
