"""Blue outgoing webhooks: the domain package shared by every function (the SAM layer)."""

__version__ = "0.1.0"
PRODUCT = "Blue-Webhooks"
USER_AGENT = f"{PRODUCT}/{__version__} (+https://blue.cc)"
