"""An MRAP policy must not deny ``s3:*`` (or ``*``) to everyone.

MRAP policies govern requests made through the global endpoint, and AWS documents no owner exemption for them as it
does for bucket policies (botocore ``s3`` model, ``PutBucketPolicy``: the root principal keeps
Get/Put/DeleteBucketPolicy
even when denied). A blanket deny can therefore lock the owner out of the MRAP's own policy and routes: deny the data
actions only. https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding, as_list, statements

NAME = "MrapPolicyDeniesEverything"
SOURCE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html"
FIX = "deny the data actions only (mrap_constructs._perms.DATA_ACCESS_ACTION_PATTERNS, access_point.data_access_deny)"


def check(assembly: Assembly) -> Iterator[Finding]:
    for stack in assembly.stacks.values():
        for logical_id, props in stack.resources("AWS::S3::MultiRegionAccessPointPolicy"):
            for index, statement in enumerate(statements(props.get("Policy"))):
                actions = {str(a) for a in as_list(statement.get("Action", []))}
                if statement.get("Effect") == "Deny" and actions & {"*", "s3:*"}:
                    yield Finding(NAME, stack.name, logical_id, f"Properties.Policy.Statement[{index}]",
                                  f"statement {statement.get('Sid', index)} denies {sorted(actions & {'*', 's3:*'})}, "
                                  "control-plane actions included: the owner could lock itself out")
