"""The moto behaviours the replication hooks rely on (moto 5.2.5): a moto upgrade that changes one fails here."""

from __future__ import annotations

import inspect

from mrap_constructs.testing.dataplane import moto_hooks
from tests.dataplane.conftest import make_bucket, make_role, replicate, rule, s3


class Recorder:
    """Stands in for the engine: records what the hooks report, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._put_object = None

    def object_written(self, backend, bucket_name, key):
        self.calls.append(("written", key.name, dict(backend.tagger.get_tag_dict_for_resource(key.arn))))

    def tags_changed(self, backend, key, tags):
        self.calls.append(("tags", key.name, tags))

    def delete_marker_written(self, backend, bucket_name, key_name, marker):
        self.calls.append(("marker", key_name, marker.version_id))


def test_moto_alone_stores_replication_and_copies_nothing(engine, hooks):
    hooks.engine = None  # the hooks inert: moto alone
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket"))
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    assert engine.wait_idle(2)
    assert "Contents" not in s3("eu-west-1").list_objects_v2(Bucket="dst-bucket")
    assert "ReplicationStatus" not in s3().head_object(Bucket="src-bucket", Key="a")


def test_put_object_then_tags_in_one_request(engine, hooks):
    recorder = Recorder()
    hooks.engine = recorder
    make_bucket("src-bucket", "us-east-1")
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1", Tagging="k=v")
    assert recorder.calls == [("written", "a", {}), ("tags", "a", {"k": "v"})]


def test_moto_still_sets_metadata_after_put_object_returns(engine, hooks):
    """If this fails, moto's PutObject handler sets metadata inside put_object: replication.held_until_complete may
    no longer be needed."""
    seen = []
    recorder = Recorder()
    recorder.object_written = lambda backend, bucket_name, key: seen.append(dict(key.metadata))
    hooks.engine = recorder
    make_bucket("src-bucket", "us-east-1")
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1", Metadata={"owner": "me"}, ContentType="text/plain")
    assert seen == [{"content-type": "binary/octet-stream"}]  # neither the user metadata nor the content type yet


def test_corrected_replication_is_queued_only_once_the_put_is_complete(engine, monkeypatch):
    """S3 replicates the object's metadata (S3 User Guide, "What does Amazon S3 replicate?",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html): no job may be
    queued (so none can run, however loaded the machine) before moto has set the metadata of the PUT."""
    from moto.s3.models import FakeKey

    queued_when_metadata_set = []
    original = FakeKey.set_metadata

    def set_metadata(self, *args, **kwargs):
        queued_when_metadata_set.append(len(engine._heap))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FakeKey, "set_metadata", set_metadata)
    make_bucket("src-bucket", "us-east-1")
    make_bucket("dst-bucket", "eu-west-1")
    replicate("src-bucket", "us-east-1", make_role(), rule("dst-bucket"))
    version = s3().put_object(Bucket="src-bucket", Key="a", Body=b"1", Metadata={"owner": "me"},
                              ContentType="text/plain")["VersionId"]
    assert queued_when_metadata_set == [0]
    assert len(engine._heap) == 1  # queued when the request completed
    assert engine.wait_idle(5)
    replica = s3("eu-west-1").head_object(Bucket="dst-bucket", Key="a", VersionId=version)
    assert (replica["Metadata"], replica["ContentType"]) == ({"owner": "me"}, "text/plain")


def test_delete_without_version_reports_a_marker(engine, hooks):
    recorder = Recorder()
    hooks.engine = recorder
    make_bucket("src-bucket", "us-east-1")
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    marker = s3().delete_object(Bucket="src-bucket", Key="a")["VersionId"]
    assert recorder.calls[-1] == ("marker", "a", marker)


def test_head_and_get_headers_come_from_response_dict(engine):
    from moto.s3.models import s3_backends

    make_bucket("src-bucket", "us-east-1")
    s3().put_object(Bucket="src-bucket", Key="a", Body=b"1")
    s3_backends["123456789012"]["aws"].buckets["src-bucket"].keys["a"].replication_status = "REPLICA"
    assert s3().head_object(Bucket="src-bucket", Key="a")["ReplicationStatus"] == "REPLICA"
    assert s3().get_object(Bucket="src-bucket", Key="a")["ReplicationStatus"] == "REPLICA"


def test_wrapped_signatures_are_the_ones_the_hooks_expect(hooks):
    from moto.s3.models import FakeKey, S3Backend

    put = list(inspect.signature(hooks.originals["put_object"]).parameters)
    assert put[:4] == ["self", "bucket_name", "key_name", "value"]
    delete = list(inspect.signature(hooks.originals["delete_object"]).parameters)
    assert delete[:4] == ["self", "bucket_name", "key_name", "version_id"]
    tagging = list(inspect.signature(hooks.originals["put_object_tagging"]).parameters)
    assert tagging[:3] == ["self", "key", "tags"]
    assert isinstance(inspect.getattr_static(FakeKey, "response_dict"), property)
    assert S3Backend.put_object is not hooks.originals["put_object"]
    from moto.s3.responses import S3Response

    for name in ("key_response", "bucket_response"):
        assert getattr(S3Response, name) is not hooks.originals[name]
        assert list(inspect.signature(hooks.originals[name]).parameters) == ["self", "request", "full_url",
                                                                                  "headers"]


def test_hooks_are_undone_on_exit_and_an_inner_installation_stands_in_for_the_outer():
    """``moto_hooks.installed`` puts moto's functions back on exit; nested, the inner hooks report to their own
    engine only (over moto's functions, not over the outer hooks), and the outer ones are back after it."""
    from moto.s3.models import FakeKey, S3Backend

    current = (S3Backend.put_object, S3Backend.delete_object, FakeKey.__dict__["response_dict"])
    session = getattr(S3Backend.put_object, moto_hooks._MARK, None)  # a session data plane's hooks, if running
    unhooked = session.originals["put_object"] if session else S3Backend.put_object
    with moto_hooks.installed(None) as outer:
        outer_put = S3Backend.put_object
        assert outer_put is not unhooked and outer.originals["put_object"] is unhooked
        with moto_hooks.installed(None) as inner:
            assert inner.originals["put_object"] is unhooked and S3Backend.put_object not in (unhooked, outer_put)
        assert S3Backend.put_object is outer_put
    assert (S3Backend.put_object, S3Backend.delete_object, FakeKey.__dict__["response_dict"]) == current

