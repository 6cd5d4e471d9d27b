"""Webhook secrets at rest: sealed by a Vault (adapters.kms), opened for signing through a cache.

Delivery keeps what it opened in memory, keyed by the sealed bytes and their webhook: a new secret is a
new ciphertext, so the cache never serves a rotated-out secret, and a warm function opens a secret about
once per webhook per CACHE_SECONDS, not once per message.
"""

import threading
import time
from collections import OrderedDict

from bluehooks.ports import Vault


class SecretVault:
    """A Vault whose opened secrets are cached; sealing goes straight through."""

    CACHE_SECONDS = 300
    CACHE_ENTRIES = 2048

    def __init__(self, keys: Vault):
        self.keys = keys
        self._opened: OrderedDict[tuple[bytes, str, str], tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()  # records of a batch are delivered on several threads

    def seal(self, secret: str, company_id: str, webhook_id: str) -> bytes:
        return self.keys.seal(secret, company_id, webhook_id)

    def open(self, sealed: bytes, company_id: str, webhook_id: str) -> str:
        now, key = time.monotonic(), (sealed, company_id, webhook_id)
        with self._lock:
            cached = self._opened.get(key)
            if cached and cached[0] > now:
                self._opened.move_to_end(key)
                return cached[1]
        secret = self.keys.open(sealed, company_id, webhook_id)
        with self._lock:
            self._opened[key] = (now + self.CACHE_SECONDS, secret)
            while len(self._opened) > self.CACHE_ENTRIES:
                self._opened.popitem(last=False)
        return secret
