"""Operating a deployed MRAP with boto3: the shared client (``client``) and the ``mrap`` CLI (``cli``)."""
