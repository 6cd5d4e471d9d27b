"""RetryFunction's composition root: the retry hops' settings and scheduler."""

from bluehooks.roots.settings import Scheduling


class RetrySettings(Scheduling):
    pass
