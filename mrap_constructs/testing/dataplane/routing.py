"""Routing a request through a Multi-Region Access Point: the nearest active bucket for the client's Region.

AWS: "Multi-Region Access Point requests are routed to the closest bucket (by network latency) whose routing
status is active" and "a passive Region (dial 0) receives no traffic" (S3 User Guide, ``MultiRegionAccessPoints``
and ``MultiRegionAccessPointRequestRouting`` / "Amazon S3 Multi-Region Access Points failover controls"). A request
is served by one bucket: an error there (a 404 for a key not yet replicated, too) is the answer; S3 does not retry
it on another bucket ("Multi-Region Access Point restrictions and limitations": requests are not failed over per
request, failover is the dials).

AWS does not publish its latency map, so the emulator uses a fixed, documented stand-in: the great-circle distance
between the cities AWS names for each Region (the AWS "Regions and Availability Zones" page gives the names, e.g.
"US East (N. Virginia)", "Asia Pacific (Osaka)"; the coordinates are those cities' centres, or the data-centre
town where AWS named it, to two decimals). Ties go to the Region name that sorts first, so routing is
deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: (latitude, longitude) of the place each Region is named after.
REGION_COORDINATES: dict[str, tuple[float, float]] = {
    "us-east-1": (39.04, -77.49),       # N. Virginia (Ashburn)
    "us-east-2": (39.96, -83.00),       # Ohio (Columbus)
    "us-west-1": (37.77, -122.42),      # N. California (San Francisco)
    "us-west-2": (45.84, -119.70),      # Oregon (Boardman)
    "ca-central-1": (45.50, -73.57),    # Canada (Montreal)
    "ca-west-1": (51.05, -114.07),      # Canada West (Calgary)
    "sa-east-1": (-23.55, -46.63),      # South America (São Paulo)
    "eu-west-1": (53.35, -6.26),        # Europe (Ireland, Dublin)
    "eu-west-2": (51.51, -0.13),        # Europe (London)
    "eu-west-3": (48.86, 2.35),         # Europe (Paris)
    "eu-central-1": (50.11, 8.68),      # Europe (Frankfurt)
    "eu-central-2": (47.38, 8.54),      # Europe (Zurich)
    "eu-north-1": (59.33, 18.07),       # Europe (Stockholm)
    "eu-south-1": (45.46, 9.19),        # Europe (Milan)
    "eu-south-2": (41.65, -0.88),       # Europe (Spain, Aragón)
    "ap-south-1": (19.08, 72.88),       # Asia Pacific (Mumbai)
    "ap-south-2": (17.39, 78.49),       # Asia Pacific (Hyderabad)
    "ap-northeast-1": (35.68, 139.69),  # Asia Pacific (Tokyo)
    "ap-northeast-2": (37.57, 126.98),  # Asia Pacific (Seoul)
    "ap-northeast-3": (34.69, 135.50),  # Asia Pacific (Osaka)
    "ap-southeast-1": (1.35, 103.82),   # Asia Pacific (Singapore)
    "ap-southeast-2": (-33.87, 151.21),  # Asia Pacific (Sydney)
    "ap-southeast-3": (-6.21, 106.85),  # Asia Pacific (Jakarta)
    "ap-southeast-4": (-37.81, 144.96),  # Asia Pacific (Melbourne)
    "ap-east-1": (22.32, 114.17),       # Asia Pacific (Hong Kong)
    "af-south-1": (-33.92, 18.42),      # Africa (Cape Town)
    "il-central-1": (32.09, 34.78),     # Israel (Tel Aviv)
    "me-central-1": (25.20, 55.27),     # Middle East (UAE)
    "me-south-1": (26.23, 50.59),       # Middle East (Bahrain)
}

_EARTH_RADIUS_KM = 6371.0
ACTIVE = 100


class NoActiveRegion(Exception):
    """Every dial of the MRAP is 0: nothing can serve the request."""


def distance_km(a: str, b: str) -> float:
    """Great-circle (haversine) distance between two Regions' places.

    Raises:
        KeyError: a Region not in ``REGION_COORDINATES``.
    """
    (lat1, lon1), (lat2, lon2) = REGION_COORDINATES[a], REGION_COORDINATES[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def choose_region(client_region: str, dials: Mapping[str, int]) -> str:
    """The Region whose bucket serves a request from ``client_region``: the nearest with dial 100.

    Args:
        client_region: where the caller runs (any Region of ``REGION_COORDINATES``).
        dials: ``{region: dial}`` of every bucket of the MRAP.

    Raises:
        NoActiveRegion: no dial is 100.
        ValueError: ``client_region`` or a bucket Region is not in the distance table.
    """
    unknown = sorted({client_region, *dials} - set(REGION_COORDINATES))
    if unknown:
        raise ValueError(f"Regions {unknown} are not in the emulator's distance table (REGION_COORDINATES); "
                         f"use one of {sorted(REGION_COORDINATES)}")
    active = [region for region, dial in dials.items() if dial == ACTIVE]
    if not active:
        raise NoActiveRegion(f"no Region of {sorted(dials)} has dial {ACTIVE}")
    return min(active, key=lambda region: (distance_km(client_region, region), region))
