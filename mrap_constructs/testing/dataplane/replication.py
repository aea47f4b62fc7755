"""Live replication between emulated buckets, as S3 does it after a write: asynchronous, per the stored rules.

AWS (S3 User Guide, "Replicating objects within and across Regions", "What does Amazon S3 replicate?",
"Getting replication status information", "Replicating delete markers between buckets"):
- replication is asynchronous: the source version reports ``x-amz-replication-status: PENDING``, then
  ``COMPLETED`` (every destination done) or ``FAILED`` (any destination failed); a replica reports ``REPLICA``;
- a replica keeps the source's key, version id, last-modified time, metadata, tags and ETag;
- objects that existed before the rule was added are not replicated (that is S3 Batch Replication's job), and an
  object whose write matched no rule never gets a status;
- a replica is never replicated again by the rules of its own bucket, so a two-way pair does not loop; only its
  metadata changes go back, with ``ReplicaModifications``;
- the rule's role must allow the replication (``role_permissions``), and for an SSE-KMS object decrypt with its key
  and encrypt with the replica key, a key of another account admitting the role in its key policy
  (``strict/replication_kms.py``); if not, the version's status is ``FAILED`` and nothing is copied;
- the destination must exist and be versioned, otherwise the replication fails;
- objects stored in S3 Glacier Flexible Retrieval (``GLACIER``) or S3 Glacier Deep Archive (``DEEP_ARCHIVE``) are
  not replicated ("What isn't replicated with replication configurations?"); objects encrypted with SSE-C are, and
  the replica needs the same customer key to be read ("Replicating encrypted objects (SSE-S3, SSE-KMS, DSSE-KMS,
  SSE-C)");
- S3 Object Lock retention (mode, retain-until date) and legal hold go to the replica; the destination must have
  Object Lock enabled and the role needs ``s3:GetObjectRetention`` and ``s3:GetObjectLegalHold`` on the source,
  otherwise a locked object's replication fails ("What does Amazon S3 replicate?": "S3 Object Lock retention
  information, if there is any"; "Object Lock considerations", section "Using Object Lock with S3 Replication").

``ReplicationEngine.delay`` is the lag (default 0.2 s, so a test can see ``PENDING``; AWS replicates most objects
within seconds, S3 RTC 99.99 % within 15 minutes). One worker thread applies jobs in the order they fall due, like
S3's per-object ordering. The engine is driven by ``moto_hooks`` (writes, deletes, tag changes on moto's backend).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mrap_constructs.testing.dataplane import replication_metrics, replication_rules, role_permissions
from mrap_constructs.testing.dataplane.policy_cache import PolicyCache
from mrap_constructs.testing.replication_context import (  # noqa: F401 - re-exported
    _LOCAL,
    as_replication,
    held_until_complete,
    replicating,
)
from mrap_constructs.testing.s3_object_rules import SSE_C_ATTRIBUTE
from mrap_constructs.testing.strict import replication_kms

PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"
#: Source storage classes S3 does not replicate (S3 User Guide, "What does Amazon S3 replicate?", section "What
#: isn't replicated with replication configurations?", https://docs.aws.amazon.com/AmazonS3/latest/userguide/
#: replication-what-is-isnot-replicated.html: "Objects that are stored in the S3 Glacier Flexible Retrieval or S3
#: Glacier Deep Archive storage class").
NOT_REPLICATED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
#: What the role needs on the source to replicate a version with Object Lock information (S3 User Guide, "Object
#: Lock considerations", "Using Object Lock with S3 Replication").
OBJECT_LOCK_SOURCE_ACTIONS = ("s3:GetObjectRetention", "s3:GetObjectLegalHold")
@dataclass
class Job:
    """One replication of one version (or delete marker, or tag change) to one destination."""

    kind: str  # "object" | "delete_marker" | "tags"
    account_id: str
    region: str
    source_bucket: str
    key_name: str
    version_id: str
    rule: replication_rules.Rule
    role: str | None
    key: Any = None
    size: int = 0
    enqueued: float = field(default_factory=time.monotonic)
    started: bool = False
    cancelled: bool = False


@dataclass(frozen=True)
class Outcome:
    """What a finished job did (``status`` COMPLETED or FAILED, ``reason`` when FAILED, ``latency`` seconds)."""

    kind: str
    source_bucket: str
    destination_bucket: str
    key_name: str
    version_id: str
    rule_id: str
    status: str
    reason: str
    latency: float


def _lock_of(key: Any) -> tuple[str | None, str | None, str | None] | None:
    """(retention mode, retain-until date, legal hold) of a version, or None without Object Lock information."""
    lock = (getattr(key, "lock_mode", None), getattr(key, "lock_until", None),
            getattr(key, "lock_legal_status", None))
    return lock if lock[0] or lock[1] or lock[2] == "ON" else None


def find_bucket(name: str) -> tuple[Any, Any] | None:
    """(backend, bucket) holding bucket ``name`` in any emulated account."""
    from moto.s3.models import s3_backends

    for account_id in list(s3_backends.keys()):
        backend = s3_backends[account_id]["aws"]
        if name in backend.buckets:
            return backend, backend.buckets[name]
    return None


class ReplicationEngine:
    """Copies new versions, delete markers and tag changes per each bucket's replication rules.

    Args:
        delay: seconds between a write and its replication. Default: 0.2.
        put_object: moto's unpatched ``S3Backend.put_object`` (the engine's writes are replicas). Default: the
            current one.

    Example:
        engine = ReplicationEngine(delay=0.05).start()
        with moto_hooks.installed(engine):
            ...  # writes through moto replicate
            engine.wait_idle(timeout=5)
    """

    def __init__(self, *, delay: float = 0.2, put_object: Callable[..., Any] | None = None) -> None:
        self.delay = delay
        self._put_object = put_object
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._thread: threading.Thread | None = None
        self._stop = False
        #: (source bucket, rule id) -> [operations, bytes] pending, for the metrics.
        self._pending: dict[tuple[str, str, str], list[int]] = {}
        #: Every finished job, oldest first.
        self.outcomes: list[Outcome] = []
        #: Replication metric values on their way to CloudWatch (put in batches by the worker, and by wait_idle).
        self.metrics = replication_metrics.MetricBuffer()
        #: Parsed role policies by their text (a changed policy is new text: the next job reads it).
        self.policies = PolicyCache()
        self.paused = threading.Event()
        self.paused.set()  # set = running; clear() holds jobs back (a lagging Region)

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> ReplicationEngine:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._work, name="mrap-replication", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.metrics.flush()

    def reset(self) -> None:
        """Forget queued jobs and outcomes (between tests)."""
        with self._cond:
            for _, _, job in self._heap:
                job.cancelled = True
            self._heap.clear()
            self._pending.clear()
            self.outcomes.clear()
            self.metrics = replication_metrics.MetricBuffer(self.metrics.flush_seconds)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        self.metrics.flush()
        return True

    # -- what the hooks report ----------------------------------------------------------------------------------
    def object_written(self, backend: Any, bucket_name: str, key: Any) -> None:
        """A new version was written by a client: decide its rules now (tags may follow: ``tags_changed``)."""
        bucket = backend.buckets[bucket_name]
        _LOCAL.fresh = key  # the same request may put its x-amz-tagging tags next
        role, rules = replication_rules.parse(getattr(bucket, "replication", None))
        if not rules:
            return
        self._schedule_object(backend, bucket, key, role, rules, backend.tagger.get_tag_dict_for_resource(key.arn))

    def _schedule_object(self, backend: Any, bucket: Any, key: Any, role: str | None,
                         rules: list[replication_rules.Rule], tags: dict[str, str],
                         enqueued: float | None = None) -> None:
        chosen = replication_rules.for_object(rules, key.name, tags, kms_encrypted=key.encryption == "aws:kms")
        if key.storage_class in NOT_REPLICATED_STORAGE_CLASSES:
            chosen = []
        if not chosen:
            key.__dict__.pop("replication_status", None)
            key._mrap_jobs = []
            return
        key.replication_status = PENDING
        key._mrap_targets = {rule.destination_bucket: PENDING for rule in chosen}
        jobs = [Job("object", backend.account_id, bucket.region_name, bucket.name, key.name, key.version_id, rule,
                    role, key=key, size=key.size) for rule in chosen]
        if enqueued is not None:
            for job in jobs:
                job.enqueued = enqueued
        key._mrap_jobs = jobs
        for job in jobs:
            self._enqueue(job)

    def tags_changed(self, backend: Any, key: Any, tags: dict[str, str]) -> None:
        """Tags were put on a version: re-decide a version not yet replicated, or carry the change over."""
        bucket = backend.buckets.get(key.bucket_name)
        if bucket is None:
            return
        role, rules = replication_rules.parse(getattr(bucket, "replication", None))
        jobs = getattr(key, "_mrap_jobs", [])
        if getattr(_LOCAL, "fresh", None) is key and not any(job.started for job in jobs):
            _LOCAL.fresh = None
            with self._cond:
                for job in jobs:
                    job.cancelled = True
                    self._pending_add(job, -1)
            self._schedule_object(backend, bucket, key, role, rules, tags,
                                  enqueued=jobs[0].enqueued if jobs else None)
            return
        status = getattr(key, "replication_status", None)
        if status == REPLICA:
            targets = replication_rules.for_replica_modification(rules, key.name, tags)
        elif status in (PENDING, COMPLETED):
            targets = replication_rules.for_object(rules, key.name, tags, kms_encrypted=key.encryption == "aws:kms")
        else:
            return
        for rule in targets:
            self._enqueue(Job("tags", backend.account_id, bucket.region_name, bucket.name, key.name, key.version_id,
                              rule, role, key=key))

    def delete_marker_written(self, backend: Any, bucket_name: str, key_name: str, marker: Any) -> None:
        bucket = backend.buckets[bucket_name]
        role, rules = replication_rules.parse(getattr(bucket, "replication", None))
        for rule in replication_rules.for_delete_marker(rules, key_name):
            self._enqueue(Job("delete_marker", backend.account_id, bucket.region_name, bucket_name, key_name,
                              marker.version_id, rule, role, key=marker))

    # -- the worker -----------------------------------------------------------------------------------------------
    def _enqueue(self, job: Job) -> None:
        held = getattr(_LOCAL, "held", None)
        with self._cond:
            if held is None:
                heapq.heappush(self._heap, (time.monotonic() + self.delay, next(self._seq), job))
            if job.kind == "object":
                self._pending_add(job, +1)
            self._cond.notify_all()
        if held is not None:
            held.append((self, job))
        if job.kind == "object":
            self._publish_pending(job)

    def _release(self, job: Job) -> None:
        """Queue a job ``held_until_complete`` held (its lag counts from now: the request is complete)."""
        if job.cancelled:
            return
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + self.delay, next(self._seq), job))
            self._cond.notify_all()

    def _pending_add(self, job: Job, sign: int) -> None:
        slot = self._pending.setdefault((job.source_bucket, job.rule.destination_bucket, job.rule.id), [0, 0])
        slot[0] = max(0, slot[0] + sign)
        slot[1] = max(0, slot[1] + sign * job.size)

    def _work(self) -> None:
        while True:
            flush = False
            with self._cond:
                while not self._stop and (not self._heap or self._heap[0][0] > time.monotonic()):
                    due = self.metrics.due()
                    if due is not None and (due <= 0 or not self._heap):  # idle, or the oldest value waited enough
                        flush = True
                        break
                    timeout = (self._heap[0][0] - time.monotonic()) if self._heap else None
                    if due is not None:
                        timeout = due if timeout is None else min(timeout, due)
                    self._cond.wait(timeout if timeout is None else max(timeout, 0.001))
                if not flush:
                    if self._stop:
                        return
                    _, _, job = heapq.heappop(self._heap)
                    if job.cancelled:
                        self._cond.notify_all()
                        continue
                    job.started = True
                    self._running += 1
            if flush:
                self.metrics.flush()
                continue
            try:
                while not self.paused.wait(self.metrics.flush_seconds):
                    self.metrics.flush()  # a paused engine still reports what is pending
                self._run(job)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _run(self, job: Job) -> None:
        try:
            reason = self._apply(job)
        except Exception as err:  # a moto error while copying: S3 reports the replication as failed
            reason = f"{type(err).__name__}: {err}"
        status = FAILED if reason else COMPLETED
        latency = time.monotonic() - job.enqueued
        self.outcomes.append(Outcome(job.kind, job.source_bucket, job.rule.destination_bucket, job.key_name,
                                     job.version_id, job.rule.id, status, reason, latency))
        if job.kind == "object":
            targets = job.key._mrap_targets
            targets[job.rule.destination_bucket] = status
            values = set(targets.values())
            job.key.replication_status = PENDING if PENDING in values else FAILED if FAILED in values else COMPLETED
            with self._cond:
                self._pending_add(job, -1)
        if job.rule.metrics:
            metrics: dict[str, tuple[float, str]] = {}
            if job.kind == "object":
                ops, size = self._pending.get((job.source_bucket, job.rule.destination_bucket, job.rule.id), [0, 0])
                metrics["OperationsPendingReplication"] = (float(ops), "Count")
                metrics["BytesPendingReplication"] = (float(size), "Bytes")
                if not reason:
                    metrics["ReplicationLatency"] = (latency, "Seconds")
            if reason:
                metrics["OperationsFailedReplication"] = (1.0, "Count")
            if metrics:
                self.metrics.add(job.account_id, job.region, job.source_bucket, job.rule.destination_bucket,
                                 job.rule.id, metrics)

    def _publish_pending(self, job: Job) -> None:
        if job.rule.metrics:
            ops, size = self._pending.get((job.source_bucket, job.rule.destination_bucket, job.rule.id), [0, 0])
            self.metrics.add(job.account_id, job.region, job.source_bucket, job.rule.destination_bucket,
                             job.rule.id, {"OperationsPendingReplication": (float(ops), "Count"),
                                           "BytesPendingReplication": (float(size), "Bytes")})

    def _apply(self, job: Job) -> str:
        """Do the job; the reason it failed, or "" when done."""
        destination = find_bucket(job.rule.destination_bucket)
        if destination is None:
            return f"destination bucket {job.rule.destination_bucket} does not exist"
        dest_backend, dest_bucket = destination
        if not dest_bucket.is_versioned:
            return f"destination bucket {dest_bucket.name} is not versioned"
        if job.role is None:
            return "the replication configuration has no role"
        action = {"object": "s3:ReplicateObject", "delete_marker": "s3:ReplicateDelete",
                  "tags": "s3:ReplicateTags"}[job.kind]
        checks = [(action, f"arn:aws:s3:::{dest_bucket.name}/{job.key_name}")]
        locked = job.kind == "object" and _lock_of(job.key) is not None
        if job.kind == "object":
            checks.append(("s3:GetObjectVersionForReplication", f"arn:aws:s3:::{job.source_bucket}/{job.key_name}"))
        if locked:
            if not dest_bucket.object_lock_enabled:
                return (f"destination bucket {dest_bucket.name} does not have Object Lock enabled; a version with "
                        "Object Lock information replicates only to an Object Lock bucket")
            checks += [(action, f"arn:aws:s3:::{job.source_bucket}/{job.key_name}")
                       for action in OBJECT_LOCK_SOURCE_ACTIONS]
        for check_action, resource in checks:
            decision = role_permissions.evaluate(job.role, check_action, resource, cache=self.policies)
            if not decision.allowed:
                return decision.reason
        if job.kind == "object" and job.key.encryption == "aws:kms":
            # SSE-KMS: decrypt with the object's key, encrypt with the replica key (strict/replication_kms.py).
            why = replication_kms.problem(
                job.role, source_account=job.account_id, source_region=job.region, source_bucket=job.source_bucket,
                key_name=job.key_name, source_key_id=job.key.kms_key_id, replica_key_id=job.rule.replica_kms_key_id,
                destination_account=dest_bucket.account_id, destination_region=dest_bucket.region_name,
                destination_bucket=dest_bucket.name)
            if why:
                return why
        if job.kind == "object":
            self._copy(job, dest_backend, dest_bucket)
        elif job.kind == "delete_marker":
            self._mark_deleted(job, dest_bucket)
        else:
            self._copy_tags(job, dest_backend, dest_bucket)
        return ""

    def _copy(self, job: Job, dest_backend: Any, dest_bucket: Any) -> None:
        from moto.s3.models import s3_backends

        key = job.key
        source_backend = s3_backends[job.account_id]["aws"]
        kms = key.encryption == "aws:kms"
        put_object = self._put_object or type(dest_backend).put_object
        with as_replication():
            replica = put_object(dest_backend, dest_bucket.name, key.name, key.value,
                                 storage=job.rule.storage_class or key.storage_class, etag=key.etag,
                                 encryption=key.encryption if kms or key.encryption == "AES256" else None,
                                 kms_key_id=job.rule.replica_kms_key_id if kms else None,
                                 disable_notification=False)
            replica._version_id = key.version_id
            replica.last_modified = key.last_modified
            lock = _lock_of(key)
            if lock is not None:
                replica.lock_mode, replica.lock_until, replica.lock_legal_status = lock
            sse_c = getattr(key, SSE_C_ATTRIBUTE, None)
            if sse_c is not None:
                setattr(replica, SSE_C_ATTRIBUTE, sse_c)
            for name, value in key.metadata.items():
                replica._metadata[name] = value
            replica.replication_status = REPLICA
            tags = source_backend.tagger.get_tag_dict_for_resource(key.arn)
            if tags:
                dest_backend.put_object_tagging(replica, tags)

    def _mark_deleted(self, job: Job, dest_bucket: Any) -> None:
        from types import SimpleNamespace

        from moto.s3.models import FakeDeleteMarker

        versions = dest_bucket.keys.getlist(job.key_name, [])
        marker = FakeDeleteMarker(key=versions[-1] if versions else SimpleNamespace(name=job.key_name))
        marker._version_id = job.version_id
        marker.last_modified = job.key.last_modified
        dest_bucket.keys[job.key_name] = marker  # moto's versioned store appends

    def _copy_tags(self, job: Job, dest_backend: Any, dest_bucket: Any) -> None:
        from moto.s3.models import s3_backends

        target = next((v for v in dest_bucket.keys.getlist(job.key_name, [])
                       if str(v.version_id) == str(job.version_id) and hasattr(v, "value")), None)
        if target is None:
            return
        tags = s3_backends[job.account_id]["aws"].tagger.get_tag_dict_for_resource(job.key.arn)
        with as_replication():
            dest_backend.put_object_tagging(target, tags)
