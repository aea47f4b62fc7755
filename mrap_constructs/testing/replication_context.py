"""Which thread is writing a replica, and which S3 request's replication jobs wait for it to finish: the context
the replication hooks (``dataplane.moto_hooks``), the live replication engine (``dataplane.replication``) and
batch jobs (``batch_operations``) share. Per thread (moto serves each request on its own thread), so it holds no
emulator state: ``EmulatorState`` does.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_LOCAL = threading.local()


def replicating() -> bool:
    """True inside the engine's own writes (they are replicas: the hooks must not replicate them again)."""
    return getattr(_LOCAL, "replicating", False)


@contextmanager
def as_replication():
    """Mark the writes made inside as replicas (``replicating()`` is True in this thread): the hooks skip them."""
    _LOCAL.replicating = True
    try:
        yield
    finally:
        _LOCAL.replicating = False


@contextmanager
def held_until_complete():
    """Hold the jobs this thread enqueues until the block ends: a client request is complete only when moto's
    handler has finished it (moto's PutObject handler sets user metadata, content type, ACL and tags *after*
    ``S3Backend.put_object`` returns), and S3 replicates the object as written, with that metadata ("What does
    Amazon S3 replicate?": object metadata). ``moto_hooks`` wraps each S3 request in it, so no job can read an
    object before its request is complete, however loaded the machine. Nested blocks hold until the outermost ends."""
    if getattr(_LOCAL, "held", None) is not None:
        yield
        return
    _LOCAL.held = []
    try:
        yield
    finally:
        held, _LOCAL.held = _LOCAL.held, None
        for engine, job in held:
            engine._release(job)
