"""One composition root per function: its settings, and `build(settings, aws) -> <Root>` giving the handler its
services and giving tests, chaos and benches their seams (the AWS session, the http session, the clock)."""
