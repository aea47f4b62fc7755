"""Custom-resource Lambda handlers, under their earlier name: ``mrap_constructs.handlers.routes`` is
``mrap_runtime.handlers.routes`` (the Lambda runs the latter)."""
