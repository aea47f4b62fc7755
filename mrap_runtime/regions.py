"""Facts about AWS Regions as they concern Multi-Region Access Points.

Pure data and predicates; no CDK imports, so the app config and the constructs can both use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

#: Regions where an MRAP can place a bucket without any account setting.
MRAP_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "sa-east-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-north-1",
        "ap-south-1",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
    }
)

#: Regions that support MRAPs only once the Region is enabled (opted in) in the account.
OPT_IN_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-south-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ca-west-1",
        "eu-central-2",
        "eu-south-1",
        "eu-south-2",
        "il-central-1",
        "me-central-1",
        "me-south-1",
    }
)

#: Every Region an MRAP may include.
SUPPORTED_REGIONS: frozenset[str] = MRAP_REGIONS | OPT_IN_REGIONS

#: The Region that hosts the MRAP control plane (create, describe, policy).
CONTROL_PLANE_REGION = "us-west-2"

#: Regions that serve the MRAP routes API (Get/SubmitMultiRegionAccessPointRoutes), in order of preference.
ROUTES_API_REGIONS: tuple[str, ...] = (
    "us-west-2",
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "ap-northeast-1",
)

#: Hard limit of Regions (and so buckets) in one MRAP.
MAX_REGIONS = 17

#: Routing dials: a Region receives traffic (active) or none (passive); MRAP failover uses only these two.
ACTIVE = 100
PASSIVE = 0


def failover_dials(regions: Iterable[str], active: Iterable[str]) -> dict[str, int]:
    """Dials that make exactly ``active`` receive traffic: 100 for them, 0 for every other Region."""
    active = set(active)
    return {region: ACTIVE if region in active else PASSIVE for region in sorted(regions)}


def failover_problems(regions: Sequence[str], active: Sequence[str], passive: Sequence[str] | None,
                      routes_region: str | None) -> list[tuple[str, object, str]]:
    """``(field, value, rule)`` for every problem with a set of routing dials: the one statement of these rules, for
    ``MultiRegionAccessPointRoutes`` and the app config's ``failover`` alike."""
    found: list[tuple[str, object, str]] = []
    if not active:
        found.append(("active", list(active), "name at least one Region that receives traffic"))
    for field, names in (("active", list(active)), ("passive", list(passive or []))):
        outside = [r for r in names if r not in regions]
        if outside:
            found.append((field, outside, f"every Region must be one of the MRAP's Regions {list(regions)}"))
        if len(set(names)) != len(names):
            found.append((field, names, "list each Region once"))
    if passive is not None:
        both = sorted(set(active) & set(passive))
        if both:
            found.append(("passive", both, "a Region cannot be both active and passive"))
        unnamed = sorted(set(regions) - set(active) - set(passive))
        if unnamed:
            found.append(("passive", list(passive), f"name every Region as active or passive; missing {unnamed} "
                                                    "(or omit passive: the rest stand by)"))
    if routes_region is not None and routes_region not in ROUTES_API_REGIONS:
        found.append(("routes_region", routes_region, f"the routes API is served only in {list(ROUTES_API_REGIONS)}"))
    return found


def is_opt_in(region: str) -> bool:
    """Return True when ``region`` supports MRAPs only after it is enabled in the account."""
    return region in OPT_IN_REGIONS


def suggest_region(region: str) -> str:
    """Return a ``" (did you mean 'x'?)"`` hint for a misspelt Region, or an empty string."""
    if not isinstance(region, str):
        return ""
    best = min(sorted(SUPPORTED_REGIONS), key=lambda known: _edit_distance(region, known))
    return f" (did you mean {best!r}?)" if _edit_distance(region, best) <= 3 else ""


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: typos such as swapped letters ('us-esat-1') count once."""
    rows = [[max(i, j) if min(i, j) == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def routes_region_for(regions: list[str] | tuple[str, ...]) -> str:
    """Pick the Region to call the routes API in: one of the MRAP's own Regions when possible.

    Args:
        regions: the MRAP's Regions.

    Returns:
        The first of ``ROUTES_API_REGIONS`` that the MRAP uses, else ``CONTROL_PLANE_REGION``.
    """
    for candidate in ROUTES_API_REGIONS:
        if candidate in regions:
            return candidate
    return CONTROL_PLANE_REGION


def initial_dials(goal: Mapping[str, int], empty: Iterable[str]) -> dict[str, int]:
    """The dials a new MRAP starts with: ``goal`` with the ``empty`` Regions (buckets still to be backfilled) passive,
    so no reader is routed to a bucket without the data. When that leaves no Region active, the Regions holding data
    (those not ``empty``) are active: an MRAP with every dial at 0 serves nothing."""
    empty = set(empty)
    dials = {region: PASSIVE if region in empty else dial for region, dial in goal.items()}
    if not any(dials.values()):
        dials = {region: PASSIVE if region in empty else ACTIVE for region in dials}
    return dict(sorted(dials.items()))


def state_reader_role_name(bucket_prefix: str, region: str) -> str:
    """The read-only role a bucket account's stack creates for the MRAP account (the in-sync check before a failover):
    ``{bucket_prefix}-reader-{region}`` (at most 57 characters for a valid prefix; IAM allows 64)."""
    return f"{bucket_prefix}-reader-{region}"


def state_reader_role_arn(bucket: str, owner: str, region: str) -> str | None:
    """The reader role of a bucket the set created in another account, derived from its deterministic name
    ``{prefix}-{owner}-{region}``; None for a bucket not named that way (an adopted bucket has no reader role)."""
    suffix = f"-{owner}-{region}"
    if not bucket.endswith(suffix) or len(bucket) == len(suffix):
        return None
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:iam::{owner}:role/{state_reader_role_name(bucket[:-len(suffix)], region)}"


def regions_problem(regions: Sequence[str]) -> str | None:
    """Why ``regions`` cannot be an MRAP's Regions, or None: the one statement of the rule, for ``MrapSet`` and the
    app config alike (each Region supports MRAPs, listed once, at most ``MAX_REGIONS``)."""
    problems = [f"{region!r} does not support MRAPs{suggest_region(region)}"
                for region in regions if region not in SUPPORTED_REGIONS]
    if not regions:
        problems.append("give at least one Region (one bucket each)")
    duplicates = sorted({r for r in regions if list(regions).count(r) > 1})
    if duplicates:
        problems.append(f"{duplicates} listed more than once (one bucket per Region)")
    if len(regions) > MAX_REGIONS:
        problems.append(f"{len(regions)} Regions; an MRAP holds at most {MAX_REGIONS}")
    return "; ".join(problems) or None


def home_region_problem(region: str) -> str | None:
    """Why ``region`` cannot hold the MRAP's stack (its control plane calls and the dashboard), or None."""
    if region not in SUPPORTED_REGIONS:
        return f"{region!r} is not a Region that supports MRAPs{suggest_region(region)}"
    return None
