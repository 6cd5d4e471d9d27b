"""The only code that knows boto3 and the AWS item shapes: each adapter provides a port (bluehooks.ports)."""
