"""A code asset must not upload dotfiles (``.env``, ``.git``, ``.venv``...).

A directory asset with an ``exclude`` list of ``["*", "!file"]`` patterns does not exclude dotfiles, so whatever sits
beside the code (credentials in ``.env`` included) is uploaded to the bootstrap bucket and into the function:
https://docs.aws.amazon.com/cdk/v2/guide/assets.html
"""

from __future__ import annotations

from collections.abc import Iterator

from mrap_constructs.rules._assembly import Assembly, Finding

NAME = "AssetWithDotfiles"
SOURCE = "https://docs.aws.amazon.com/cdk/v2/guide/assets.html"
FIX = "stage exactly the files the code needs in a directory of their own (see mrap_constructs.routes)"


def check(assembly: Assembly) -> Iterator[Finding]:
    for manifest, directory in assembly.asset_dirs:
        dotted = sorted(str(p.relative_to(directory)) for p in directory.rglob(".*"))
        if dotted:
            shown = ", ".join(dotted[:5]) + (f" and {len(dotted) - 5} more" if len(dotted) > 5 else "")
            yield Finding(NAME, manifest.stem.removesuffix(".assets"), None, directory.name,
                          f"asset {directory.name} contains dotfiles: {shown}")
