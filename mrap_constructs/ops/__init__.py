"""Operating a deployed MRAP with boto3, under its earlier name: ``mrap_constructs.ops.client``, ``.cli`` and
``.smoke`` are ``mrap_runtime.client``, ``.cli`` and ``.smoke`` (import those to skip loading aws-cdk-lib)."""
