"""Print what `cdk synth` produced: where the templates are, stacks by wave, Regions, resources, nag findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summarize(out: Path) -> str:
    manifest = json.loads((out / "manifest.json").read_text())
    stacks = {
        name: artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    depth: dict[str, int] = {}

    def wave(name: str) -> int:
        if name not in depth:
            deps = [d for d in stacks[name].get("dependencies", []) if d in stacks]
            depth[name] = 1 + max((wave(d) for d in deps), default=0)
        return depth[name]

    lines = [f"Templates: {out.resolve()}", ""]
    lines.append(f"{'wave':<5} {'stack':<45} {'region':<15} {'resources':>9}")
    total = 0
    for name in sorted(stacks, key=lambda n: (wave(n), n)):
        template = json.loads((out / stacks[name]["properties"]["templateFile"]).read_text())
        count = len(template.get("Resources", {}))
        total += count
        region = stacks[name]["environment"].rsplit("/", 1)[-1]
        lines.append(f"{wave(name):<5} {name:<45} {region:<15} {count:>9}")
    regions = sorted({stacks[n]["environment"].rsplit("/", 1)[-1] for n in stacks})
    report = out / "validation-report.json"
    findings = 0
    if report.exists():
        for plugin in json.loads(report.read_text()).get("pluginReports", []):
            if plugin.get("pluginName") != "Construct Annotations":  # warnings, printed by the CLI already
                findings += len(plugin.get("violations", []))
    lines += [
        "",
        f"Stacks: {len(stacks)} in {max(depth.values(), default=0)} deploy waves; "
        f"Regions: {len(regions)} ({', '.join(regions)}); resources: {total}; cdk-nag findings: {findings}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1] if len(sys.argv) > 1 else "cdk.out")))
