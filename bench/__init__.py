"""`make bench`: what synth costs as Regions grow, against a hand-written L1 baseline (see run.py).

Shared by the project's and the baseline's apps, so neither imports the other's code.
"""

#: The order Regions are added in: the default config's three first, then the other MRAP Regions.
ORDER = ["us-east-1", "eu-west-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
         "ap-south-1", "ap-southeast-1", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-2", "eu-west-3",
         "sa-east-1", "us-east-2", "us-west-1", "us-west-2"]
NAME = "bench"
#: The App context app.py synthesizes with (stacks.app_builder.APP_CONTEXT; a test keeps them equal), given to the
#: baseline too so both apps run with the same settings.
APP_CONTEXT = {"aws:cdk:disable-creation-stack-traces": True}
ACCOUNT = "111111111111"


def project_config(n: int) -> dict:
    """The project's config for ``n`` Regions: full mesh, monitoring on (the defaults)."""
    return {"name": NAME, "regions": ORDER[:n], "account": ACCOUNT}


#: The lean config of the cost table: replication runs, but no replication metrics, alarms or dashboard watch it.
LEAN = {"replication": {"metrics": False}, "monitoring": {"alarms": False, "dashboard": False}}
#: The Regions of the cost table.
COST_NS = [1, 3, 5, 9, 17]
