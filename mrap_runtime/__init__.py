"""mrap_runtime: the boto3 side of cdk-s3-mrap — what runs against a deployed MRAP, with no aws-cdk-lib.

* ``mrap_runtime.regions``: Region facts and the routing-dial rules (plain Python, shared with ``mrap_constructs``);
* ``mrap_runtime.client``: ``MrapClient``, the boto3 client the CLI and the handlers share;
* ``mrap_runtime.cli`` / ``mrap_runtime.smoke``: the ``mrap`` command;
* ``mrap_runtime.handlers``: custom-resource Lambda handlers.

This package *is* the routes custom resource's Lambda asset: ``mrap_constructs.routes`` uploads the package
directory as it is laid out (no list of files), so everything here must import with boto3 alone (a unit test
imports the staged asset in a bare interpreter). ``mrap_constructs.ops`` and ``mrap_constructs.handlers`` are the
same modules under their earlier names.
"""
