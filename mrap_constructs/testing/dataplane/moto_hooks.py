"""The patch that drives live replication from moto's S3 backend (moto 5.2.5).

moto stores a bucket's replication configuration and copies nothing (``S3Backend.put_bucket_replication`` only
saves it; no write looks at it), and never reports ``x-amz-replication-status``. The patch wraps six moto
functions, keeping each original in ``ORIGINALS``:

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

from typing import Any

from mrap_constructs.testing.dataplane import replication

ORIGINALS: dict[str, Any] = {}
#: The engine the hooks report to (None: hooks installed but inert).
ENGINE: dict[str, replication.ReplicationEngine | None] = {"engine": None}


def install(engine: replication.ReplicationEngine) -> None:
    """Patch moto (once) and report to ``engine`` from now on."""
    ENGINE["engine"] = engine
    if ORIGINALS:
        engine._put_object = ORIGINALS["put_object"]
        return
    from moto.s3.models import FakeKey, S3Backend
    from moto.s3.responses import S3Response

    ORIGINALS.update(put_object=S3Backend.put_object, put_object_tagging=S3Backend.put_object_tagging,
                     delete_object=S3Backend.delete_object, response_dict=FakeKey.response_dict,
                     key_response=S3Response.key_response, bucket_response=S3Response.bucket_response)
    engine._put_object = ORIGINALS["put_object"]

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        key = ORIGINALS["put_object"](self, bucket_name, key_name, *args, **kwargs)
        current = ENGINE["engine"]
        if current is not None and not replication.replicating():
            current.object_written(self, bucket_name, key)
        return key

    def put_object_tagging(self: Any, key: Any, tags: dict[str, str] | None, *args: Any, **kwargs: Any) -> Any:
        before = {t["Key"]: t["Value"] for t in self.get_object_tagging(key).get("Tags", [])}
        result = ORIGINALS["put_object_tagging"](self, key, tags, *args, **kwargs)
        current = ENGINE["engine"]
        # moto's PutObject handler sets the tags (often none) right after put_object: only a change is one, so a
        # slow machine, where the object's job may already have run, does not replicate the same tags twice.
        if current is not None and not replication.replicating() and dict(tags or {}) != before:
            current.tags_changed(self, key, dict(tags or {}))
        return result

    def delete_object(self: Any, bucket_name: str, key_name: str, version_id: str | None = None,
                      *args: Any, **kwargs: Any) -> Any:
        result = ORIGINALS["delete_object"](self, bucket_name, key_name, version_id, *args, **kwargs)
        current = ENGINE["engine"]
        _, meta = result
        if (current is not None and not replication.replicating() and version_id is None
                and meta.get("delete-marker") == "true"):
            marker = self.buckets[bucket_name].keys.getlist(key_name)[-1]
            current.delete_marker_written(self, bucket_name, key_name, marker)
        return result

    original_response_dict = ORIGINALS["response_dict"].fget

    def response_dict(self: Any) -> dict[str, Any]:
        headers = original_response_dict(self)
        status = self.__dict__.get("replication_status")
        if status:
            headers["x-amz-replication-status"] = status
        return headers

    def held(name: str) -> Any:
        original = ORIGINALS[name]

        def respond(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            with replication.held_until_complete():
                return original(self, request, full_url, headers)

        return respond

    S3Response.key_response = held("key_response")
    S3Response.bucket_response = held("bucket_response")
    S3Backend.put_object = put_object
    S3Backend.put_object_tagging = put_object_tagging
    S3Backend.delete_object = delete_object
    FakeKey.response_dict = property(response_dict)


def uninstall() -> None:
    """Stop reporting (the patch stays; it is inert without an engine)."""
    ENGINE["engine"] = None
