"""S3 Batch Operations in the emulator: ``CreateJob`` / ``DescribeJob`` / ``ListJobs`` for ``S3ReplicateObject`` jobs
over an S3-generated manifest, run at once by really copying the eligible object versions.

moto 5.2.5 has no S3 Batch Operations (no ``/v20180820/jobs`` route: botocore's ``create_job`` gets a 404), so a
backfill could not run locally. What is modelled, each with its AWS source:

* ``ClientRequestToken`` is an idempotency token: the same token returns the same job
  (botocore s3control model, ``CreateJobRequest.ClientRequestToken``, ``idempotencyToken: true``).
* The generated manifest (``S3JobManifestGenerator`` with ``Filter.EligibleForReplication`` and
  ``ObjectReplicationStatuses``) lists the source's object versions that a replication rule's filter (prefix)
  matches and whose replication status is one of those given; a replica (status ``REPLICA``) or a version
  replicated before (``COMPLETED``) is not listed again
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html).
* ``S3ReplicateObject`` replicates each listed version with the source bucket's replication configuration, to
  every destination of the rules that match it (the highest-priority rule per destination); a source without a
  replication configuration fails the job
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-batch.html, "Batch Replication
  requires a replication configuration").
* ``DescribeJob``'s ``ProgressSummary`` counts one task per listed version; the job is ``Complete`` when every task
  ran (``Failed`` when the job itself could not run); ``ListJobs`` lists the Region's jobs, filtered by
  ``JobStatuses``.
* The completion report (``Report``) is written to ``{Prefix}/job-{id}/report.json`` with the failed tasks.

Replicas keep the source version's id and carry replication status ``REPLICA``, so the data plane's live
replication does not copy them again (a replica is not replicated onward).

Not modelled: job priorities and queues (jobs run to completion inside ``CreateJob``), delete markers, tags and
ACLs.

Jobs, idempotency tokens and replication statuses live in the emulator's state (``EmulatorState.jobs``,
``.tokens``, ``.replication_status``: ``{(bucket, key, version id): status}``; a version not in it is ``NONE``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from mrap_constructs.testing.replication_context import as_replication
from mrap_constructs.testing.state import EmulatorState
from mrap_constructs.testing.strict import replication_kms
from mrap_constructs.testing.strict._lookup import find_bucket

JOBS_PATH = "/v20180820/jobs"
JOB_PATH = "/v20180820/jobs/<job_id>"
#: The replication status S3 gives a replica (``x-amz-replication-status``).
REPLICA = "REPLICA"


def _bucket_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _rules(s3: Any, bucket: str) -> list[dict[str, Any]] | None:
    try:
        config = s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except s3.exceptions.ClientError:
        return None
    return [r for r in config.get("Rules", []) if r.get("Status") == "Enabled"]


def _prefix(rule: dict[str, Any]) -> str:
    rule_filter = rule.get("Filter") or {}
    return rule_filter.get("Prefix") or (rule_filter.get("And") or {}).get("Prefix") or rule.get("Prefix") or ""


def _destinations(rules: list[dict[str, Any]], key: str) -> list[str]:
    """The destination buckets of the rules matching ``key``: per destination, the highest-priority rule."""
    chosen: dict[str, int] = {}
    for rule in rules:
        if key.startswith(_prefix(rule)):
            bucket = _bucket_of(rule["Destination"]["Bucket"])
            priority = int(rule.get("Priority", 0))
            chosen[bucket] = max(priority, chosen.get(bucket, priority))
    return sorted(chosen)


def run_job(state: EmulatorState, client_for: Any, account: str, region: str,
            request: dict[str, Any]) -> dict[str, Any]:
    """Create (or, for a known token, return) a job and run it; returns the ``JobDescriptor``."""
    token = request.get("ClientRequestToken", "")
    with state.lock:
        known = state.tokens.get((account, region, token))
        if known:
            return state.jobs[(account, region)][known]
        job_id = str(uuid.uuid4())
        state.tokens[(account, region, token)] = job_id
    now = dt.datetime.now(dt.UTC)
    job: dict[str, Any] = {
        "JobId": job_id, "JobArn": f"arn:aws:s3:{region}:{account}:job/{job_id}",
        "Description": request.get("Description", ""), "ConfirmationRequired": False,
        "Operation": request.get("Operation", {}), "Priority": int(request.get("Priority", 0)),
        "RoleArn": request.get("RoleArn", ""), "Report": request.get("Report", {}),
        "ManifestGenerator": request.get("ManifestGenerator", {}), "CreationTime": now, "Status": "Active",
        "ProgressSummary": {"TotalNumberOfTasks": 0, "NumberOfTasksSucceeded": 0, "NumberOfTasksFailed": 0},
    }
    state.jobs.setdefault((account, region), {})[job_id] = job
    generator = (request.get("ManifestGenerator") or {}).get("S3JobManifestGenerator") or {}
    if "S3ReplicateObject" not in (request.get("Operation") or {}) or not generator:
        return _fail(job, "UnsupportedOperation", "the emulator models S3ReplicateObject over a generated manifest")
    source = _bucket_of(generator["SourceBucket"])
    s3 = client_for("s3", region)
    rules = _rules(s3, source)
    config_role = _role(s3, source)
    if rules is None:
        return _fail(job, "ReplicationConfigurationNotFound", f"{source} has no replication configuration")
    statuses = set((generator.get("Filter") or {}).get("ObjectReplicationStatuses") or ["NONE", "FAILED"])
    eligible_only = (generator.get("Filter") or {}).get("EligibleForReplication", False)
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=source):
        versions += page.get("Versions", [])
    # S3 lists each key's versions newest first: replicate them oldest first, so the latest version stays the latest.
    versions.reverse()
    failures = []
    summary = job["ProgressSummary"]
    for version in versions:
        key, version_id = version["Key"], version["VersionId"]
        status = state.replication_status.get((source, key, version_id), "NONE")
        targets = _destinations(rules, key)
        if status not in statuses or (eligible_only and not targets):
            continue
        summary["TotalNumberOfTasks"] += 1
        try:
            _kms_check(request.get("RoleArn", ""), config_role, account, region, source, key, version_id, rules,
                       targets)
            for target in targets:
                placed = _write_replica(source, key, version_id, target, _replica_key(rules, target))
                state.replication_status[(target, key, placed)] = REPLICA
            state.replication_status[(source, key, version_id)] = "COMPLETED"
            summary["NumberOfTasksSucceeded"] += 1
        except Exception as err:  # a task's failure is reported, the job goes on (as S3 does)
            state.replication_status[(source, key, version_id)] = "FAILED"
            summary["NumberOfTasksFailed"] += 1
            failures.append({"Key": key, "VersionId": version_id, "Error": str(err)})
    job["Status"] = "Complete"
    job["TerminationDate"] = dt.datetime.now(dt.UTC)
    _report(client_for, region, job, failures)
    return job


def _role(s3: Any, bucket: str) -> str:
    try:
        return s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"].get("Role", "")
    except s3.exceptions.ClientError:
        return ""


def _replica_key(rules: list[dict[str, Any]], target: str) -> str | None:
    for rule in rules:
        if _bucket_of(rule["Destination"]["Bucket"]) == target:
            return (rule["Destination"].get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    return None


def _kms_check(job_role: str, replication_role: str, account: str, region: str, source: str, key: str,
               version_id: str, rules: list[dict[str, Any]], targets: list[str]) -> None:
    """An SSE-KMS version: the job's role must decrypt it ("If you run S3 Batch Operations on encrypted objects, the
    IAM role must also have access to the AWS KMS keys", batch-ops-iam-role-policies.html), and the replication role
    decrypt it and encrypt each replica (strict/replication_kms.py). Raises ``PermissionError`` naming the first gap."""
    bucket = find_bucket(source)
    original = next((k for k in bucket.keys.getlist(key, []) if k.version_id == version_id), None) if bucket else None
    if original is None or original.encryption != "aws:kms" or not original.kms_key_id:
        return
    common = {"source_account": account, "source_region": region, "source_bucket": source, "key_name": key,
              "source_key_id": original.kms_key_id}
    if why := replication_kms.problem(job_role, **common):
        raise PermissionError(f"AccessDenied: {why}")
    for target in targets:
        destination = find_bucket(target)
        if destination is None:
            continue
        if why := replication_kms.problem(replication_role, **common, replica_key_id=_replica_key(rules, target),
                                          destination_account=destination.account_id,
                                          destination_region=destination.region_name, destination_bucket=target):
            raise PermissionError(f"AccessDenied: {why}")


def _write_replica(source: str, key: str, version_id: str, target: str, replica_key_id: str | None = None) -> str:
    """Write version ``version_id`` of ``key`` into ``target`` as a replica, as S3 does: the same version id, body and
    metadata, replication status ``REPLICA`` — and, being a replica, not replicated again by the data plane's live
    replication (written in the replication context, as the engine writes its own). Returns the replica's version id.

    Runs inside the emulator server (the CreateJob handler), so it uses moto's backends directly."""
    from moto.s3.models import s3_backends

    source_bucket, target_bucket = find_bucket(source), find_bucket(target)
    if source_bucket is None or target_bucket is None:
        raise LookupError(f"NoSuchBucket: {source if source_bucket is None else target}")
    original = next((k for k in source_bucket.keys.getlist(key, []) if k.version_id == version_id), None)
    if original is None:
        raise LookupError(f"NoSuchVersion: {key} {version_id}")
    backend = s3_backends[target_bucket.account_id]["aws"]
    kms = original.encryption == "aws:kms"
    with as_replication():
        replica = backend.put_object(target_bucket.name, key, original.value, etag=original.etag,
                                     **({"encryption": "aws:kms", "kms_key_id": replica_key_id}
                                        if kms and replica_key_id else {}))
        replica._version_id = original.version_id
        replica.last_modified = original.last_modified
        for name, value in original.metadata.items():
            replica._metadata[name] = value
        replica.replication_status = REPLICA
    return replica.version_id


def _region_of(client_for: Any, bucket: str) -> str:
    location = client_for("s3", "us-east-1").get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return location or "us-east-1"


def _fail(job: dict[str, Any], code: str, reason: str) -> dict[str, Any]:
    job["Status"] = "Failed"
    job["FailureReasons"] = [{"FailureCode": code, "FailureReason": reason}]
    job["TerminationDate"] = dt.datetime.now(dt.UTC)
    return job


def _report(client_for: Any, region: str, job: dict[str, Any], failures: list[dict[str, Any]]) -> None:
    report = job.get("Report") or {}
    if not report.get("Enabled") or not report.get("Bucket"):
        return
    key = f"{report.get('Prefix', '').rstrip('/')}/job-{job['JobId']}/report.json".lstrip("/")
    bucket = _bucket_of(report["Bucket"])
    body = {"JobId": job["JobId"], "ProgressSummary": job["ProgressSummary"], "FailedTasks": failures}
    client_for("s3", _region_of(client_for, bucket)).put_object(Bucket=bucket, Key=key,
                                                                Body=json.dumps(body, default=str).encode())


def list_jobs(state: EmulatorState, account: str, region: str, statuses: list[str] | None) -> list[dict[str, Any]]:
    jobs = sorted(state.jobs.get((account, region), {}).values(), key=lambda j: j["CreationTime"])
    return [{"JobId": j["JobId"], "Description": j["Description"], "Operation": next(iter(j["Operation"]), ""),
             "Priority": j["Priority"], "Status": j["Status"], "CreationTime": j["CreationTime"],
             **({"TerminationDate": j["TerminationDate"]} if "TerminationDate" in j else {}),
             "ProgressSummary": j["ProgressSummary"]}
            for j in jobs if not statuses or j["Status"] in statuses]
