"""What can go wrong in a request, in the domain's words; the API turns each kind into one status."""


class DomainError(Exception):
    """A refusal whose message is safe to show to the caller."""


class Unauthenticated(DomainError):
    """No token, or one that does not verify."""


class Forbidden(DomainError):
    """The caller's role or project scope does not allow this."""


class NotFound(DomainError):
    """Unknown, another company's, or outside the caller's project scope: the caller cannot tell which."""


class Refused(DomainError):
    """Bad input found beyond the schema: a URL that may not be a target, a cursor we did not issue."""


class LimitReached(DomainError):
    """The company has as many webhooks as it may have."""


class NotRedelivered(DomainError):
    """A redelivery that may not happen: outside the webhook's current scope, or already queued in this run."""


class TooManyRequests(DomainError):
    """Over a per-company limit on manual actions; the same request is accepted after `retry_after_seconds`."""

    def __init__(self, message: str, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class Busy(DomainError):
    """Concurrent writes kept conflicting, or DynamoDB kept throttling a read; the same request will succeed
    if retried shortly."""

    retry_after_seconds = 1


class Unavailable(DomainError):
    """An AWS service failed us (a queue refused a message) and nothing was changed; try again shortly."""

    retry_after_seconds = 5


class TooLarge(Refused):
    """A request body over the size limit."""


class UnsupportedMediaType(Refused):
    """A request body not declared as JSON."""
