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


def splice_section(markdown: str, lines: list[str], before: str = "## Test suites") -> str:
    """``markdown`` with the section whose heading is ``lines[0]`` replaced, or inserted before the ``before``
    heading (else appended): how a benchmark run alone updates its part of BENCHMARKS.md."""
    import re

    block = "\n".join(lines) + "\n"
    existing = re.compile(re.escape(lines[0]) + r"\n.*?(?=\n## |\Z)", re.S)
    if existing.search(markdown):
        return existing.sub(lambda _: block, markdown)
    if before in markdown:
        return markdown.replace(before, block + "\n" + before, 1)
    return markdown.rstrip("\n") + "\n\n" + block


def drop_section(markdown: str, heading: str) -> str:
    """``markdown`` without the section whose heading is ``heading`` (a section a benchmark renamed)."""
    import re

    return re.sub(re.escape(heading) + r"\n.*?(?=\n## |\Z)\n?", "", markdown, flags=re.S)


def write_section(lines: list[str], replaces: tuple[str, ...] = (), status: int = 0) -> int:
    """Splice ``lines`` (a section, heading first) into BENCHMARKS.md, in place of the sections headed ``replaces``
    (its former headings) if any, and print them; returns ``status``, the exit status of a benchmark run alone."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
    markdown = path.read_text()
    for heading in replaces:
        if heading in markdown and lines[0] not in markdown:
            markdown = markdown.replace(heading, lines[0], 1)  # keep its place; splice then replaces its body
        else:
            markdown = drop_section(markdown, heading)
    path.write_text(splice_section(markdown, lines))
    print("\n".join(lines))
    return status
