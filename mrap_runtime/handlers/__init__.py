"""Custom-resource Lambda handlers: plain Python on boto3, unit-tested without AWS."""
