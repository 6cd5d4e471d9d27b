"""Pure rules: no I/O, no boto3, no clock reads where a value can be passed in."""
