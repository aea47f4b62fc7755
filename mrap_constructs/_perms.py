"""IAM action lists, in one place (as aws-s3's ``perms.ts``).

Object actions are listed explicitly (no ``s3:*``) so the least-privilege audit can check every policy.
"""

from __future__ import annotations

#: Read objects through an access point.
OBJECT_READ_ACTIONS: tuple[str, ...] = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectAttributes",
    "s3:GetObjectVersionAttributes",
)

#: List a bucket through an access point.
LIST_ACTIONS: tuple[str, ...] = (
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
)

#: Write and delete objects through an access point.
OBJECT_WRITE_ACTIONS: tuple[str, ...] = (
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectTagging",
    "s3:AbortMultipartUpload",
)

#: What a bucket delegates to the access points of the owning account.
DELEGATED_BUCKET_ACTIONS: tuple[str, ...] = OBJECT_READ_ACTIONS + LIST_ACTIONS + OBJECT_WRITE_ACTIONS

#: Source-bucket permissions of a replication role (bucket level).
REPLICATION_SOURCE_BUCKET_ACTIONS: tuple[str, ...] = (
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)

#: Source-bucket permissions of a replication role (object level).
REPLICATION_SOURCE_OBJECT_ACTIONS: tuple[str, ...] = (
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
)

#: Destination-bucket permissions of a replication role (object level).
REPLICATION_DESTINATION_ACTIONS: tuple[str, ...] = (
    "s3:ReplicateObject",
    "s3:ReplicateDelete",
    "s3:ReplicateTags",
)

#: Extra destination permission when replicas change owner to the destination account.
REPLICATION_OWNER_OVERRIDE_ACTIONS: tuple[str, ...] = ("s3:ObjectOwnerOverrideToBucketOwner",)

#: What the replication custom resource needs to apply and remove a bucket's replication configuration.
REPLICATION_CONFIG_ACTIONS: tuple[str, ...] = (
    "s3:PutReplicationConfiguration",
    "s3:GetReplicationConfiguration",
)

#: The data-plane actions a request through an MRAP can make, as patterns: what a deny in the MRAP policy (only
#: through VPC endpoints, only over TLS) covers. MRAP policies govern requests "made through the global endpoint"
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointPermissions.html); AWS documents no
#: exemption for the owner as it does for bucket policies (botocore s3 model, PutBucketPolicy: the root principal
#: keeps Get/Put/DeleteBucketPolicy), so a deny never names ``s3:*``: control-plane actions
#: (``s3:PutMultiRegionAccessPointPolicy``, ``s3:SubmitMultiRegionAccessPointRoutes``, ...) match none of these.
DATA_ACCESS_ACTION_PATTERNS: tuple[str, ...] = (
    "s3:GetObject*",
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:ListBucket*",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
    "s3:RestoreObject",
)

#: What an S3 Batch Replication job's role needs on the source bucket's objects, and on the bucket itself when S3
#: generates the manifest (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html,
#: "Policy if using and storing an S3 generated manifest").
BATCH_REPLICATION_OBJECT_ACTIONS: tuple[str, ...] = ("s3:InitiateReplication",)
BATCH_REPLICATION_BUCKET_ACTIONS: tuple[str, ...] = ("s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration")

#: What the read-only role in a bucket account allows the MRAP account (the in-sync check before a failover): the
#: bucket's replication rules; and its replication metrics (CloudWatch, no resource-level permissions).
STATE_READER_BUCKET_ACTIONS: tuple[str, ...] = ("s3:GetReplicationConfiguration", "s3:GetBucketVersioning")
STATE_READER_METRIC_ACTIONS: tuple[str, ...] = ("cloudwatch:GetMetricData",)

#: What a destination key's policy allows another account's replication role: encrypt replicas
#: (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html).
REPLICA_KEY_ACTIONS: tuple[str, ...] = ("kms:Encrypt",)
