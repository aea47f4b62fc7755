"""The patch that drives live replication from moto's S3 backend (moto 5.2.5).

moto stores a bucket's replication configuration and copies nothing (``S3Backend.put_bucket_replication`` only
saves it; no write looks at it), and never reports ``x-amz-replication-status``. The patch wraps six moto
functions while ``installed(engine)`` is in force (``Hooks.originals`` keeps each original; on exit they are
put back):

- ``S3Backend.put_object``: every new version a client writes (PUT, POST, CopyObject, CompleteMultipartUpload all
  end here) is handed to the engine, which decides its rules and marks it ``PENDING``;
- ``S3Backend.put_object_tagging``: moto's PutObject handler sets the ``x-amz-tagging`` tags *after*
  ``put_object`` returns, so a tag-filtered rule is decided again when they arrive (before the job starts); later
  tag changes are replicated (``s3:ReplicateTags``), or carried back from a replica with ``ReplicaModifications``;
- ``S3Backend.delete_object``: a DELETE without a version id on a versioned bucket makes a delete marker, handed
  to the engine (a versioned DELETE is never replicated);
- ``FakeKey.response_dict``: HEAD and GET (which build their headers from it) report the version's
  ``x-amz-replication-status``;
- ``S3Response.key_response`` and ``S3Response.bucket_response`` (every S3 request, in-process or served): the jobs
  a request makes are held until moto's handler has finished it (``replication.held_until_complete``), because the
  handler sets the new version's user metadata, content type, ACL and tags after ``put_object`` returns; a job
  queued at once could copy the version before it has them.

The engine's own writes run with ``replication.replicating()`` true and are not reported (a replica is not
replicated again). ``tests/dataplane/test_moto_hooks.py`` checks each moto behaviour the patch relies on (tags set
after ``put_object``, the delete-marker response, ``response_dict`` feeding HEAD), so a moto upgrade that changes
one fails there first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mrap_constructs.testing.replication_context import held_until_complete, replicating

#: The moto attributes the hooks replace, ``(module:Class, attribute)``; listed in ``patches.TOUCHED`` too.
HOOKED = (("moto.s3.models:S3Backend", "put_object"), ("moto.s3.models:S3Backend", "put_object_tagging"),
          ("moto.s3.models:S3Backend", "delete_object"), ("moto.s3.models:FakeKey", "response_dict"),
          ("moto.s3.responses:S3Response", "key_response"), ("moto.s3.responses:S3Response", "bucket_response"))
#: Marks a hooked function with the ``Hooks`` that installed it (so a nested installation finds moto's originals).
_MARK = "__mrap_hooks__"


class Hooks:
    """An installation of the hooks: they report to ``engine`` (None: inert); ``originals`` are moto's functions
    under them (``put_object``, ``put_object_tagging``, ``delete_object``, ``response_dict``, ``key_response``,
    ``bucket_response``)."""

    def __init__(self, engine: Any, originals: dict[str, Any]) -> None:
        self.engine = engine
        self.originals = originals


def _classes() -> tuple[Any, Any, Any]:
    from moto.s3.models import FakeKey, S3Backend
    from moto.s3.responses import S3Response

    return S3Backend, FakeKey, S3Response


@contextmanager
def installed(engine: Any) -> Iterator[Hooks]:
    """Patch moto so writes report to ``engine`` while the block runs; on exit, moto's functions (or the hooks of an
    enclosing installation, which the inner one stands in for meanwhile) are put back."""
    S3Backend, FakeKey, S3Response = _classes()
    saved = {(cls, name): vars(cls).get(name) for cls, name in ((S3Backend, "put_object"),
                                                                 (S3Backend, "put_object_tagging"),
                                                                 (S3Backend, "delete_object"),
                                                                 (FakeKey, "response_dict"),
                                                                 (S3Response, "key_response"),
                                                                 (S3Response, "bucket_response"))}
    outer: Hooks | None = getattr(S3Backend.put_object, _MARK, None)
    originals = dict(outer.originals) if outer is not None else dict(
        put_object=S3Backend.put_object, put_object_tagging=S3Backend.put_object_tagging,
        delete_object=S3Backend.delete_object, response_dict=FakeKey.response_dict,
        key_response=S3Response.key_response, bucket_response=S3Response.bucket_response)
    hooks = Hooks(engine, originals)
    if engine is not None:
        engine._put_object = originals["put_object"]

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        key = originals["put_object"](self, bucket_name, key_name, *args, **kwargs)
        current = hooks.engine
        if current is not None and not replicating():
            current.object_written(self, bucket_name, key)
        return key

    def put_object_tagging(self: Any, key: Any, tags: dict[str, str] | None, *args: Any, **kwargs: Any) -> Any:
        before = {t["Key"]: t["Value"] for t in self.get_object_tagging(key).get("Tags", [])}
        result = originals["put_object_tagging"](self, key, tags, *args, **kwargs)
        current = hooks.engine
        # moto's PutObject handler sets the tags (often none) right after put_object: only a change is one, so a
        # slow machine, where the object's job may already have run, does not replicate the same tags twice.
        if current is not None and not replicating() and dict(tags or {}) != before:
            current.tags_changed(self, key, dict(tags or {}))
        return result

    def delete_object(self: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                      *args: Any, **kwargs: Any) -> Any:
        result = originals["delete_object"](self, bucket_name, key_name, version_id, *args, **kwargs)
        current = hooks.engine
        _, meta = result
        if (current is not None and not replicating() and version_id is None
                and meta.get("delete-marker") == "true"):
            marker = self.buckets[bucket_name].keys.getlist(key_name)[-1]
            current.delete_marker_written(self, bucket_name, key_name, marker)
        return result

    original_response_dict = originals["response_dict"].fget

    def response_dict(self: Any) -> dict[str, Any]:
        headers = original_response_dict(self)
        status = self.__dict__.get("replication_status")
        if status:
            headers["x-amz-replication-status"] = status
        return headers

    def held(name: str) -> Any:
        original = originals[name]

        def respond(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            with held_until_complete():
                return original(self, request, full_url, headers)

        return respond

    setattr(put_object, _MARK, hooks)
    try:
        S3Response.key_response = held("key_response")
        S3Response.bucket_response = held("bucket_response")
        S3Backend.put_object = put_object
        S3Backend.put_object_tagging = put_object_tagging
        S3Backend.delete_object = delete_object
        FakeKey.response_dict = property(response_dict)
        yield hooks
    finally:
        for (cls, name), before in saved.items():
            if before is None:
                if name in vars(cls):
                    delattr(cls, name)
            else:
                setattr(cls, name, before)
