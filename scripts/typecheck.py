#!/usr/bin/env python3
"""CI's type check of the public API: mypy over examples/consumer (an app on the wheel's API) and a file that uses the
API as the README does must pass, and tests/typecheck/must_fail.py (``MrapSet(app, "x", name=3)``) must fail with
exactly that error — proof that a type checker sees the real signatures (``py.typed``, an eager package root).

``--follow-imports=silent``: only these files are checked; the library and aws-cdk-lib are read for their types.
The cache (``.mypy_cache``) makes reruns take seconds; a cold run reads aws-cdk-lib's stubs once (about a minute).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = ROOT / "examples" / "consumer"
#: Checked from their own directory (the consumer's ``stacks`` package is not the repo's).
MUST_PASS = {CONSUMER: ["app.py", "stacks"], ROOT / "tests" / "typecheck": ["must_pass.py"]}
MUST_FAIL = ROOT / "tests" / "typecheck" / "must_fail.py"
EXPECTED = 'must_fail.py:7: error: Argument "name" to "MrapSet" has incompatible type "int"; expected "str"'


def mypy(library: Path, cwd: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    """mypy over ``paths`` (relative to ``cwd``), reading this checkout's packages from ``library`` (MYPYPATH)."""
    env = {**os.environ, "MYPYPATH": str(library)}
    return subprocess.run([sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
                           "--cache-dir", str(ROOT / ".mypy_cache"), *paths],
                          cwd=cwd, env=env, capture_output=True, text=True, check=False)


def main() -> int:
    with tempfile.TemporaryDirectory() as library:  # only the two packages: not the repo's own stacks/ or app.py
        for package in ("mrap_constructs", "mrap_runtime"):
            (Path(library) / package).symlink_to(ROOT / package)
        return check(Path(library))


def check(library: Path) -> int:
    for cwd, paths in MUST_PASS.items():
        passing = mypy(library, cwd, *paths)
        if passing.returncode != 0:
            print(f"typecheck: {paths} in {cwd} must type-check:\n{passing.stdout}{passing.stderr}", file=sys.stderr)
            return 1
    failing = mypy(library, MUST_FAIL.parent, MUST_FAIL.name)
    if failing.returncode != 1 or EXPECTED not in failing.stdout.replace("\\", "/"):
        print(f"typecheck: {MUST_FAIL} must fail with\n  {EXPECTED}\ngot (exit {failing.returncode}):\n"
              f"{failing.stdout}{failing.stderr}", file=sys.stderr)
        return 1
    print(f"typecheck: ok (examples/consumer and must_pass.py pass; {MUST_FAIL.name} fails as it must)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
