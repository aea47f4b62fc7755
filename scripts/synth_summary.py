"""Print what `cdk synth` produced: where the templates are, stacks by wave, Regions, resources, nag findings, and
the idle monthly cost (``mrap_constructs.cost``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mrap_constructs.cost import estimate_idle_cost  # noqa: E402


def stack_rows(out: Path) -> list[dict]:
    """One row per stack of a cloud assembly: stack, wave (dependency depth), region, bytes, resources, outputs."""
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {name: artifact for name, artifact in manifest["artifacts"].items()
              if artifact["type"] == "aws:cloudformation:stack"}
    depth: dict[str, int] = {}

    def wave(name: str) -> int:
        if name not in depth:
            deps = [d for d in stacks[name].get("dependencies", []) if d in stacks]
            depth[name] = 1 + max((wave(d) for d in deps), default=0)
        return depth[name]

    rows = []
    for name, artifact in stacks.items():
        path = out / artifact["properties"]["templateFile"]
        template = json.loads(path.read_text())
        stack_name = artifact["properties"].get("stackName", name)  # the artifact id is a hash of the path
        rows.append({"stack": stack_name, "wave": wave(name), "region": artifact["environment"].rsplit("/", 1)[-1],
                     "bytes": path.stat().st_size, "resources": len(template.get("Resources", {})),
                     "outputs": len(template.get("Outputs", {}))})
    return sorted(rows, key=lambda r: (r["wave"], r["stack"]))


def nag_findings(out: Path) -> int:
    """Violations cdk-nag reported (the CLI prints annotation warnings itself)."""
    report = out / "validation-report.json"
    if not report.exists():
        return 0
    return sum(len(plugin.get("violations", [])) for plugin in json.loads(report.read_text()).get("pluginReports", [])
               if plugin.get("pluginName") != "Construct Annotations")


def summarize(out: Path) -> str:
    rows = stack_rows(out)
    lines = [f"Templates: {out}", "", f"{'wave':<5} {'stack':<45} {'region':<15} {'resources':>9}"]
    lines += [f"{r['wave']:<5} {r['stack']:<45} {r['region']:<15} {r['resources']:>9}" for r in rows]
    regions = sorted({r["region"] for r in rows})
    waves = max((r["wave"] for r in rows), default=0)
    lines += ["", f"Stacks: {len(rows)} in {waves} deploy waves; Regions: {len(regions)} ({', '.join(regions)}); "
                  f"resources: {sum(r['resources'] for r in rows)}; cdk-nag findings: {nag_findings(out)}"]
    lines += ["", "Idle monthly cost (estimate, before any data is stored or replicated):", "",
              estimate_idle_cost(out).render()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
