"""Use cases, written against the ports (bluehooks.ports): they import rules and models, never boto3."""
