"""Where a root's AWS clients come from: boto3's default session on Lambda, whatever a test, bench or the
chaos mode passes elsewhere (a session of its own, or one whose clients it wraps)."""

from typing import Any, Protocol


class Aws(Protocol):
    """boto3 itself (its default session: a second Session would load botocore's data files again, about
    50 ms of a cold start) or any boto3.Session."""

    def client(self, service_name: str, **kwargs: Any) -> Any: ...

    def resource(self, service_name: str, **kwargs: Any) -> Any: ...
