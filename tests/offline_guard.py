"""Make a subprocess prove it stayed on the machine: a ``sitecustomize`` (loaded at start through ``PYTHONPATH``)
that refuses, and logs, every name lookup and every connect to a host other than the loopback.

Example:
    env = guarded(env, tmp_path)
    subprocess.run([sys.executable, "-c", program], env=env)
    assert attempts(tmp_path) == []
"""

from __future__ import annotations

import os
from pathlib import Path

SITECUSTOMIZE = '''
import os
import socket

ACTIVE = True
_LOG = os.environ["MRAP_OFFLINE_GUARD_LOG"]


def _check(host, what):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in ("localhost", "::1") or name.startswith("127."):
        return
    with open(_LOG, "a") as log:
        log.write(f"{what} {name}\\n")
    raise OSError(f"offline guard: {what} {name} refused (only the loopback is allowed)")


def _wrap(original, what):
    def guarded(host, *args, **kwargs):
        _check(host, what)
        return original(host, *args, **kwargs)
    return guarded


socket.getaddrinfo = _wrap(socket.getaddrinfo, "getaddrinfo")
socket.gethostbyname = _wrap(socket.gethostbyname, "gethostbyname")
socket.gethostbyname_ex = _wrap(socket.gethostbyname_ex, "gethostbyname")
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address[0], "connect")
    return _connect(self, address)


def connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address[0], "connect")
    return _connect_ex(self, address)


socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
'''

#: A line for a guarded program: proves the guard is loaded and catches a lookup (logged as ``getaddrinfo
#: guard-self-test.example``, which ``attempts`` leaves out).
SELF_TEST = '''
import socket, sitecustomize
assert sitecustomize.ACTIVE
try:
    socket.getaddrinfo("guard-self-test.example", 443)
    raise SystemExit("offline guard inactive")
except OSError:
    pass
'''


def guarded(env: dict[str, str], directory: Path) -> dict[str, str]:
    """``env`` with the guard's ``sitecustomize`` first on ``PYTHONPATH`` and its log in ``directory``."""
    (directory / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = directory / "offline-guard.log"
    log.write_text("")
    path = [str(directory), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    return {**env, "PYTHONPATH": os.pathsep.join(path), "MRAP_OFFLINE_GUARD_LOG": str(log)}


def attempts(directory: Path) -> list[str]:
    """What the guarded programs tried to reach off the loopback (the self-test's lookup left out)."""
    lines = (directory / "offline-guard.log").read_text().splitlines()
    assert "getaddrinfo guard-self-test.example" in lines, "the guard's self-test did not run"
    return [line for line in lines if line != "getaddrinfo guard-self-test.example"]
