"""Pure rules: the domain's decisions as functions of values, with no I/O, no boto3, and no clock reads where a
value can be passed in."""
