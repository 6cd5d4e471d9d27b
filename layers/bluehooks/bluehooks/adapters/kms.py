"""Webhook secrets sealed with the customer-managed KMS key, bound to their webhook by the encryption context
(the company and the webhook): a sealed secret copied onto another webhook does not open."""


class KmsVault:
    """The Vault port over KMS: the API seals (kms:Encrypt), delivery opens (kms:Decrypt), the fan-out neither."""

    def __init__(self, kms, key_id: str):
        self.kms = kms
        self.key_id = key_id

    def seal(self, secret: str, company_id: str, webhook_id: str) -> bytes:
        return self.kms.encrypt(
            KeyId=self.key_id, Plaintext=secret.encode(), EncryptionContext=_context(company_id, webhook_id)
        )["CiphertextBlob"]

    def open(self, sealed: bytes, company_id: str, webhook_id: str) -> str:
        return self.kms.decrypt(
            CiphertextBlob=sealed, KeyId=self.key_id, EncryptionContext=_context(company_id, webhook_id)
        )["Plaintext"].decode()


def _context(company_id: str, webhook_id: str) -> dict[str, str]:
    return {"companyId": company_id, "webhookId": webhook_id}
