"""The MRAP data plane, emulated: the global endpoint (SigV4A, dial routing), live replication, an HTTPS proxy.

One module per AWS behaviour, each citing its source: ``sigv4a`` (signature verification), ``routing`` (dials and
the Region-distance table), ``replication_rules`` / ``replication`` / ``role_permissions`` /
``replication_metrics`` (live replication), ``moto_hooks`` (the patch that drives it), ``gateway`` (the global
endpoint) + ``in_process`` (its hop to moto's S3, without a socket) + ``policy_cache`` (policies parsed once per
text), ``proxy`` + ``local_ca`` (how unchanged code reaches it), ``session`` (all of it together).

The package's names (``LocalDataPlane``, ``DataPlane``, ...) load on first use, so importing one of its lower modules
(``role_permissions``, ``operations``) does not start the whole emulator's import (docs/architecture.md, "The
emulator's layers").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrap_constructs.testing.dataplane.gateway import DataPlane
    from mrap_constructs.testing.dataplane.proxy import MrapProxy
    from mrap_constructs.testing.dataplane.replication import ReplicationEngine
    from mrap_constructs.testing.dataplane.session import LocalDataPlane, Mrap

__all__ = ["DataPlane", "LocalDataPlane", "Mrap", "MrapProxy", "ReplicationEngine"]


def __getattr__(name: str) -> Any:
    if name == "DataPlane":
        from mrap_constructs.testing.dataplane.gateway import DataPlane

        return DataPlane
    if name == "MrapProxy":
        from mrap_constructs.testing.dataplane.proxy import MrapProxy

        return MrapProxy
    if name == "ReplicationEngine":
        from mrap_constructs.testing.dataplane.replication import ReplicationEngine

        return ReplicationEngine
    if name in ("LocalDataPlane", "Mrap"):
        from mrap_constructs.testing.dataplane import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
