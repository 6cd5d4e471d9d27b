"""Webhook secrets at rest: sealed with a customer-managed KMS key, bound to their webhook.

The API seals (kms:Encrypt), delivery opens (kms:Decrypt); the fan-out can do neither. The
encryption context names the company and the webhook, so a sealed secret copied onto
another webhook does not open. Delivery keeps what it opened in memory, keyed by the sealed
bytes and their webhook: a new secret is a new ciphertext, so the cache never serves a rotated-out secret,
and a warm function calls KMS about once per webhook per CACHE_SECONDS, not once per message.
"""

import threading
import time
from collections import OrderedDict


class SecretVault:
    CACHE_SECONDS = 300
    CACHE_ENTRIES = 2048

    def __init__(self, kms, key_id: str):
        self.kms = kms
        self.key_id = key_id
        self._opened: OrderedDict[tuple[bytes, str, str], tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()  # records of a batch are delivered on several threads

    def seal(self, secret: str, company_id: str, webhook_id: str) -> bytes:
        return self.kms.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=_context(company_id, webhook_id)
        )["CiphertextBlob"]

    def open(self, sealed: bytes, company_id: str, webhook_id: str) -> str:
        now, key = time.monotonic(), (sealed, company_id, webhook_id)
        with self._lock:
            cached = self._opened.get(key)
            if cached and cached[0] > now:
                self._opened.move_to_end(key)
                return cached[1]
        secret = self.kms.decrypt(
            CiphertextBlob=sealed, KeyId=self.key_id, EncryptionContext=_context(company_id, webhook_id)
        )["Plaintext"].decode()
        with self._lock:
            self._opened[key] = (now + self.CACHE_SECONDS, secret)
            while len(self._opened) > self.CACHE_ENTRIES:
                self._opened.popitem(last=False)
        return secret


def _context(company_id: str, webhook_id: str) -> dict[str, str]:
    return {"companyId": company_id, "webhookId": webhook_id}
